Feature: A fresh bootstrap against an installed node
  Repeating --bootstrap-mode fresh against a node that already runs Talos waited for the
  maintenance API until "Timed out waiting for Talos maintenance API on 192.168.64.8". An
  installed node answers "tls: certificate required" at once; the bootstrapper must say so and
  name recover or reset. The status UI on :8080 was also absent because appliance-system was
  empty: the status service belongs to the platform tier and its absence is reported.

  @finding-20
  Scenario: An installed node is detected at once and the admin is told to recover or reset
    Given the world "happy-path" with the appliance already installed
    When the admin runs the observed fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the command fails
    And the output does not contain "Timed out waiting for Talos maintenance API"
    And the output contains "Failure layer: host"
    And the output contains "--bootstrap-mode recover"
    And the output contains "appliance reset"

  @finding-20
  Scenario: An empty appliance-system namespace is reported as a missing status service
    Given a healthy appliance
    And the status service is not deployed
    When the status is evaluated
    Then the status reports the status service "appliance-status" as missing
    And the tier "login" is ready

  @finding-20
  Scenario: On an installed appliance without the status service, appliance status reports it missing
    Given the world "findings/finding-11-app-redirect" replayed for 5 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON has a blocker for "appliance-status"
    And that blocker's reason mentions "appliance-system"
    And that blocker is not login-blocking
