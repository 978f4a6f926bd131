Feature: The status token
  Bootstrap generates a status token, keeps it in <config-dir>/<site-id>/status-token, prints the
  same token, and applies it as Secret appliance-system/appliance-status-auth.

  @T013
  Scenario: Bootstrap writes the token file, prints the same token and applies the Secret
    Given the world "happy-path" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the status token file exists with mode 0600
    And the output contains the token from the status token file
    And the Secret "appliance-system/appliance-status-auth" holds the same token
