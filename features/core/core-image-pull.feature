Feature: A long core image pull is progress, not failure
  The alga-core image ghcr.io/nine-minds/alga-psa-ee:94446747 (~1.8 GB) took around 16 minutes to
  pull. Meanwhile the status page said failed_action_required. An active core pull keeps the
  rollup at installing and shows the pull with its elapsed time and estimated size.

  @finding-06 @finding-18
  Scenario: A 12-minute core image pull is reproduced and shown as an active operation
    Given a healthy appliance
    And the app URL refuses connections
    And pod "alga-core-sebastian-6f7d9c8b4-q2w3e" of component "alga-core" has been pulling image "ghcr.io/nine-minds/alga-psa-ee:94446747" for 12 minutes
    When the status is evaluated
    Then the rollup state is "installing"
    And an active operation pulls "ghcr.io/nine-minds/alga-psa-ee:94446747" for component "alga-core"
    And the active operation has been running for at least 700 seconds
    And the active operation estimates a size of "1.8 GB"
    And the active operation says progress is not available

  @finding-18
  Scenario: The bootstrap Job waiting for the same core image keeps the rollup installing
    Given a healthy appliance
    And the app URL refuses connections
    And the bootstrap Job "alga-core-sebastian-bootstrap-r1" is running
    And pod "alga-core-sebastian-bootstrap-r1-5xq2l" of component "alga-core" has been pulling image "ghcr.io/nine-minds/alga-psa-ee:94446747" for 5 minutes
    And pod "alga-core-sebastian-6f7d9c8b4-q2w3e" of component "alga-core" has been pulling image "ghcr.io/nine-minds/alga-psa-ee:94446747" for 5 minutes
    When the status is evaluated
    Then the rollup state is "installing"
    And the rollup state is not "failed_action_required"
    And no top blocker is both login-blocking and not retryable

  @finding-06
  Scenario: A finished pull teaches the estimate the real image size
    Given a healthy appliance
    And the app URL refuses connections
    And a Normal event "Pulled" on pod "alga-core-sebastian-bootstrap-r1-5xq2l" 1 minutes ago:
      """
      Successfully pulled image "ghcr.io/nine-minds/alga-psa-ee:94446747" in 16m2.1s (16m2.1s including waiting). Image size: 1800000000 bytes.
      """
    And pod "alga-core-sebastian-6f7d9c8b4-q2w3e" of component "alga-core" has been pulling image "ghcr.io/nine-minds/alga-psa-ee:94446747" for 3 minutes
    When the status is evaluated
    Then the rollup state is "installing"
    And the active operation estimates a size of "1.8 GB"

  @finding-06 @finding-18
  Scenario: The observed 16-minute pull, replayed to minute 12, reads as installing with an active pull
    Given the world "findings/finding-06-core-image-pull" replayed for 12 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON rollup state is "installing"
    And the status JSON shows an active pull of "ghcr.io/nine-minds/alga-psa-ee:94446747" for "alga-core"
