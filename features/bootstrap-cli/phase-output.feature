Feature: Phase markers and the status UI block
  The admin sees where the install is: phase markers (Talos, then one per readiness tier, named as
  the status page names them), and right after GitOps submission the status UI URL on :8080 with
  its token.

  @T024
  Scenario: A fresh bootstrap prints phase markers and the status UI block
    Given the world "happy-path" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the output shows the phase markers in order:
      | phase               |
      | Host/Talos          |
      | Platform            |
      | Core services       |
      | Bootstrap           |
      | Login               |
      | Background services |
    And the output contains "Appliance status UI: http://{node_ip}:8080"
    And the output contains the token from the status token file
