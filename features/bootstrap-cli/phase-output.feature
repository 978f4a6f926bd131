Feature: Phase markers and the status UI block
  The admin sees where the install is: phase markers, and right after GitOps submission the status
  UI URL on :8080 with its token.

  @T024
  Scenario: A fresh bootstrap prints phase markers and the status UI block
    Given the world "happy-path" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the output shows the phase markers in order:
      | phase      |
      | Host       |
      | Platform   |
      | Core       |
      | Bootstrap  |
      | Background |
    And the output contains "Appliance status UI: http://{node_ip}:8080"
    And the output contains the token from the status token file
