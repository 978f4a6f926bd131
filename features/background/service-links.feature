Feature: Kubernetes service-link environment collision
  Temporal UI crashed with "cannot unmarshal !!str `tcp://...` into int" because Kubernetes
  service links injected TEMPORAL_UI_PORT=tcp://...; disabling service links fixed it.

  @finding-14 @T012
  Scenario: The service-link collision is reproduced and classified
    Given a healthy appliance
    And pod "temporal-ui-fb9bd65dc-mgknq" of component "temporal-ui" is crash-looping with the last message:
      """
      failed to load config: yaml: unmarshal errors:
        line 11: cannot unmarshal !!str `tcp://10.96.155.42:8080` into int
      """
    When the status is evaluated
    Then the top blocker layer is "Kubernetes service-link environment collision"
    And the top blocker component is "temporal-ui"
    And the top blocker is not login-blocking
    And the top blocker next action mentions "enableServiceLinks"
    And the rollup state is "ready_with_background_issues"

  @finding-14
  Scenario: Prevented: our Temporal and Temporal UI disable service links
    Given our "background" manifests
    Then the Deployment "temporal" sets enableServiceLinks to false
    And the Deployment "temporal-ui" sets enableServiceLinks to false

  @finding-14
  Scenario: Prevented: with our manifests Temporal UI starts in the observed world
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And no event mentions "cannot unmarshal"
    And the component "temporal-ui" is ready

  @finding-14
  Scenario: The observed Temporal UI crash, replayed, logs the collision, is classified from that log, and never blocks login
    Given the world "findings/finding-14-temporal-ui-service-links" replayed for 5 minutes
    When the admin runs "kubectl --kubeconfig {kubeconfig} -n msp logs -l app.kubernetes.io/name=temporal-ui --previous"
    Then the output contains "cannot unmarshal !!str `tcp://"
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON blocker for "temporal-ui" has layer "Kubernetes service-link environment collision"
    And the status JSON has a blocker for "temporal-ui"
    And that blocker is not login-blocking
