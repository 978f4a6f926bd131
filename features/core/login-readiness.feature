Feature: LOGIN_READY means the admin can log in
  LOGIN_READY is core business ready: platform, db, redis, pgbouncer, the bootstrap proof and
  alga-core, AND the app URL answering an HTTP probe. The observed app answered on :3000 with a
  307 to /msp/dashboard.

  @finding-11
  Scenario: A healthy appliance whose app answers 307 to /msp/dashboard is fully healthy
    Given a healthy appliance
    When the status is evaluated
    Then the rollup state is "fully_healthy"
    And every tier is ready
    And the login probe is ok with status 307 and location "/msp/dashboard"

  @finding-11
  Scenario: Ready pods without an HTTP answer are not login-ready
    Given a healthy appliance
    And the app URL refuses connections
    When the status is evaluated
    Then the tier "login" is not ready
    And the tier "core" is ready
    And the rollup state is not login-ready

  @finding-11
  Scenario: An app answering 503 is not login-ready
    Given a healthy appliance
    And the app URL answers 503
    When the status is evaluated
    Then the tier "login" is not ready
    And the rollup state is not login-ready

  @T003
  Scenario: A core database that is not ready blocks login and requires action
    Given a healthy appliance
    And pod "db-0" of component "db" is waiting with reason "CrashLoopBackOff":
      """
      back-off 5m0s restarting failed container=postgres pod=db-0_msp(5d0c7a52-5d6b-4a8e-9f3e-3f0f1f6e2b11)
      """
    When the status is evaluated
    Then the tier "core" is not ready
    And the tier "login" is not ready
    And the rollup state is "failed_action_required"
    And the top blocker component is "db"
    And the top blocker is login-blocking

  @T007
  Scenario: A missing alga-core image tag blocks login
    Given a healthy appliance
    And pod "alga-core-sebastian-6f7d9c8b4-q2w3e" of component "alga-core" is waiting with reason "ImagePullBackOff":
      """
      Back-off pulling image "ghcr.io/nine-minds/alga-psa-ee:94446747"
      """
    And a Warning event "Failed" on pod "alga-core-sebastian-6f7d9c8b4-q2w3e" 2 minutes ago:
      """
      Failed to pull image "ghcr.io/nine-minds/alga-psa-ee:94446747": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/nine-minds/alga-psa-ee:94446747": failed to resolve reference "ghcr.io/nine-minds/alga-psa-ee:94446747": ghcr.io/nine-minds/alga-psa-ee:94446747: not found
      """
    When the status is evaluated
    Then the top blocker layer is "Image tag availability"
    And the top blocker component is "alga-core"
    And the top blocker is login-blocking
    And the tier "login" is not ready
    And the rollup state is "failed_action_required"

  @finding-11
  Scenario: The observed app answer, replayed, is what the login probe sees
    Given the world "findings/finding-11-app-redirect" replayed for 5 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON login probe answered 307 with location "/msp/dashboard"
