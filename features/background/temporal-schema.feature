Feature: Temporal schema initialization
  Temporal deployed without autosetup crashed with "sql schema version compatibility check
  failed"; patching its command to "/etc/temporal/entrypoint.sh autosetup" let it initialise.
  Temporal is background: it never blocks login.

  @finding-12 @T011
  Scenario: The Temporal schema failure is reproduced and classified
    Given a healthy appliance
    And pod "temporal-57cbc7b4f6-lzzl5" of component "temporal" is crash-looping with the last message:
      """
      Unable to start server. Error: sql schema version compatibility check failed: unable to read DB schema version keyspace/database: temporal error: no usable database connection found
      """
    When the status is evaluated
    Then the top blocker layer is "Temporal schema initialization"
    And the top blocker component is "temporal"
    And the top blocker is not login-blocking
    And the top blocker next action mentions "autosetup"
    And the tier "background" is not ready
    And the rollup state is "ready_with_background_issues"

  @finding-13
  Scenario: Prevented: our Temporal runs autosetup
    Given our "background" manifests
    Then the Deployment "temporal" runs a command containing "/etc/temporal/entrypoint.sh autosetup"

  @finding-12 @finding-13
  Scenario: Prevented: with our manifests Temporal initialises in the observed world
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And no event mentions "sql schema version compatibility check failed"
    And the component "temporal" is ready

  @finding-12
  Scenario: The observed Temporal crash, replayed, logs the schema error, is classified from that log, and never blocks login
    Given the world "findings/finding-12-temporal-schema" replayed for 5 minutes
    When the admin runs "kubectl --kubeconfig {kubeconfig} -n msp logs -l app.kubernetes.io/name=temporal --previous"
    Then the output contains "sql schema version compatibility check failed"
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON blocker for "temporal" has layer "Temporal schema initialization"
    And the status JSON has a blocker for "temporal"
    And that blocker is not login-blocking
