Feature: Verify a bootstrapped appliance
  After the observed install settles: the app answers and users are seeded, the rollup is
  ready_with_background_issues with the missing workflow-worker tag as a background issue (it does
  not block login), and Temporal runs autosetup with service links disabled on Temporal and its UI.

  @T021 @T022 @T023
  Scenario: smoke verify passes on the observed world after bootstrap
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    When the admin runs "appliance smoke verify --kubeconfig {kubeconfig} --node-ip {node_ip} --token-file {status_token_file}"
    Then the command succeeds

  @T021 @finding-10 @finding-11
  Scenario: After bootstrap the app answers 307 and users are seeded
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the app URL answers 307 with location "/msp/dashboard"
    And the status service reports more than 0 seeded users or a completed bootstrap Job

  @T022 @finding-16
  Scenario: The observed world settles at ready_with_background_issues with the workflow-worker background issue
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the status service reports rollup "ready_with_background_issues"
    And the status service reports a blocker "Image tag availability" for "workflow-worker" that is not login-blocking

  @T023 @finding-13 @finding-14
  Scenario: Temporal runs autosetup with service links disabled, and both are ready
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the Deployment "msp/temporal" in the cluster runs a command containing "autosetup"
    And the Deployment "msp/temporal" in the cluster sets enableServiceLinks to false
    And the Deployment "msp/temporal-ui" in the cluster sets enableServiceLinks to false
    And the component "temporal" is ready
    And the component "temporal-ui" is ready
