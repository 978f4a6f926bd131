Feature: Background never blocks login
  LOGIN_READY does not wait for email-service, Temporal, workflow-worker or temporal-worker, and a
  failing alga-background Flux Kustomization leaves the appliance ready_with_background_issues.

  @T002 @T019
  Scenario: Login ready with alga-background not Ready is ready_with_background_issues
    Given a healthy appliance
    And the Flux Kustomization "alga-background" is not ready with reason "HealthCheckFailed":
      """
      health check failed after 9m30s: timeout waiting for: [Deployment/msp/workflow-worker status: 'InProgress']
      """
    And the component "workflow-worker" is not ready
    When the status is evaluated
    Then the tier "login" is ready
    And the tier "background" is not ready
    And the tier "fullHealth" is not ready
    And the rollup state is "ready_with_background_issues"
    And no login-blocking blocker names a background component

  @T002
  Scenario: Login ready while background is still starting is ready
    Given a healthy appliance
    And the component "temporal" is still starting
    When the status is evaluated
    Then the tier "login" is ready
    And the rollup state is "ready"
