Feature: Image tag availability in the background tier
  workflow-worker:61e4a00e and temporal-worker:61e4a00e were missing from GHCR (temporal-worker:latest
  existed) and stayed in ImagePullBackOff. They are background: login stays ready, the rollup is
  ready_with_background_issues, and the release preflight warns before the long waits.

  @finding-16 @T006
  Scenario: A missing workflow-worker tag is a background issue that does not block login
    Given a healthy appliance
    And pod "workflow-worker-7f6f96df87-lqgnj" of component "workflow-worker" is waiting with reason "ImagePullBackOff":
      """
      Back-off pulling image "ghcr.io/nine-minds/workflow-worker:61e4a00e"
      """
    And a Warning event "Failed" on pod "workflow-worker-7f6f96df87-lqgnj" 3 minutes ago:
      """
      Failed to pull image "ghcr.io/nine-minds/workflow-worker:61e4a00e": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/nine-minds/workflow-worker:61e4a00e": failed to resolve reference "ghcr.io/nine-minds/workflow-worker:61e4a00e": ghcr.io/nine-minds/workflow-worker:61e4a00e: not found
      """
    When the status is evaluated
    Then the top blocker layer is "Image tag availability"
    And the top blocker component is "workflow-worker"
    And the top blocker is not login-blocking
    And the tier "login" is ready
    And the tier "background" is not ready
    And the rollup state is "ready_with_background_issues"

  @finding-17
  Scenario: A missing temporal-worker tag is a background issue too
    Given a healthy appliance
    And pod "temporal-worker-5b7c9d8f6-q4wzt" of component "temporal-worker" is waiting with reason "ErrImagePull":
      """
      rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/nine-minds/temporal-worker:61e4a00e": failed to resolve reference "ghcr.io/nine-minds/temporal-worker:61e4a00e": ghcr.io/nine-minds/temporal-worker:61e4a00e: not found
      """
    When the status is evaluated
    Then the blocker for component "temporal-worker" has layer "Image tag availability"
    And the blocker for component "temporal-worker" is not login-blocking
    And the rollup state is "ready_with_background_issues"

  @finding-16 @finding-17 @T018
  Scenario: The release preflight warns about missing background tags, names the existing ones, and core continues
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the output contains "workflow-worker:61e4a00e"
    And the output contains "temporal-worker:61e4a00e"
    And the output names the existing tag "latest" of "temporal-worker"
    And the output does not contain "Failure layer"
    And the status service reports the tier "login" ready

  @finding-16 @T006
  Scenario: The observed missing workflow-worker tag, replayed, is a background issue
    Given the world "findings/finding-16-workflow-worker-missing-tag" replayed for 10 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON blocker for "workflow-worker" has layer "Image tag availability"
    And that blocker is not login-blocking
    And that blocker's next action mentions "workflow-worker:61e4a00e"

  @finding-17
  Scenario: The observed missing temporal-worker tag, replayed, is a background issue
    Given the world "findings/finding-17-temporal-worker-missing-tag" replayed for 10 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON blocker for "temporal-worker" has layer "Image tag availability"
    And that blocker is not login-blocking
