Feature: Flux tiers alga-platform -> alga-core -> alga-background
  The platform reads the alga-platform Kustomization, not the Flux aggregate, so a background
  failure never holds back login.

  @T019
  Scenario: Our Flux Kustomizations form the chain alga-platform -> alga-core -> alga-background
    Given the Flux objects our bootstrapper submits for release "1.0-rc5"
    Then the Kustomization "alga-core" depends on "alga-platform"
    And the Kustomization "alga-background" depends on "alga-core"
    And the Kustomization "alga-platform" depends on nothing

  @T019
  Scenario: A failing alga-platform Kustomization keeps the platform tier down
    Given a healthy appliance
    And the app URL refuses connections
    And the Flux Kustomization "alga-platform" is not ready with reason "ReconciliationFailed":
      """
      Namespace/appliance-system dry-run failed: the server could not find the requested resource
      """
    When the status is evaluated
    Then the tier "platform" is not ready
    And the tier "login" is not ready

  @T019
  Scenario: A failing alga-background Kustomization is never login-blocking
    Given a healthy appliance
    And the Flux Kustomization "alga-background" is not ready with reason "ReconciliationFailed":
      """
      Deployment/msp/workflow-worker dry-run failed: admission webhook denied the request
      """
    When the status is evaluated
    Then the tier "platform" is ready
    And the tier "login" is ready
    And no login-blocking blocker names a background component

  @T019
  Scenario: After a fresh bootstrap the cluster holds the chain alga-platform -> alga-core -> alga-background
    Given the world "happy-path" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the Kustomization "alga-core" in the cluster depends on "alga-platform"
    And the Kustomization "alga-background" in the cluster depends on "alga-core"
    And the Kustomization "alga-platform" in the cluster is Ready
