Feature: Interrupted image pulls are retryable
  The first pull of email-service:61e4a00e was canceled; deleting the pod retried the pull and it
  became Ready. An interrupted pull is retryable and never login-blocking; a newer "not found"
  for the same component wins over an older interruption.

  @finding-15 @T008
  Scenario: A canceled email-service pull is classified as a retryable interruption
    Given a healthy appliance
    And pod "email-service-6d5f7b8c9d-k7m2p" of component "email-service" is waiting with reason "ErrImagePull":
      """
      rpc error: code = Canceled desc = failed to pull and unpack image "ghcr.io/nine-minds/email-service:61e4a00e": context canceled
      """
    And a Warning event "Failed" on pod "email-service-6d5f7b8c9d-k7m2p" 1 minutes ago:
      """
      Failed to pull image "ghcr.io/nine-minds/email-service:61e4a00e": rpc error: code = Canceled desc = failed to pull and unpack image "ghcr.io/nine-minds/email-service:61e4a00e": context canceled
      """
    When the status is evaluated
    Then the top blocker layer is "Image pull interruption"
    And the top blocker component is "email-service"
    And the top blocker is retryable
    And the top blocker is not login-blocking
    And the rollup state is not "failed_action_required"

  @finding-15 @finding-16
  Scenario: A newer "not found" for the same component wins over an older interruption
    Given a healthy appliance
    And pod "workflow-worker-7f6f96df87-lqgnj" of component "workflow-worker" is waiting with reason "ImagePullBackOff":
      """
      Back-off pulling image "ghcr.io/nine-minds/workflow-worker:61e4a00e"
      """
    And a Warning event "Failed" on pod "workflow-worker-7f6f96df87-lqgnj" 10 minutes ago:
      """
      Failed to pull image "ghcr.io/nine-minds/workflow-worker:61e4a00e": rpc error: code = Canceled desc = failed to pull and unpack image "ghcr.io/nine-minds/workflow-worker:61e4a00e": context canceled
      """
    And a Warning event "Failed" on pod "workflow-worker-7f6f96df87-lqgnj" 2 minutes ago:
      """
      Failed to pull image "ghcr.io/nine-minds/workflow-worker:61e4a00e": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/nine-minds/workflow-worker:61e4a00e": failed to resolve reference "ghcr.io/nine-minds/workflow-worker:61e4a00e": ghcr.io/nine-minds/workflow-worker:61e4a00e: not found
      """
    When the status is evaluated
    Then the blocker for component "workflow-worker" has layer "Image tag availability"

  @finding-15 @T008
  Scenario: The observed canceled email-service pull, replayed, is a retryable interruption
    Given the world "findings/finding-15-email-service-pull-canceled" replayed for 3 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON blocker for "email-service" has layer "Image pull interruption"
    And that blocker is retryable
    And that blocker is not login-blocking
