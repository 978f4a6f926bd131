Feature: The bootstrap Job and its proof
  The first alga-core bootstrap Job timed out waiting for Postgres while db-0 was broken, and the
  HelmRelease reported "context deadline exceeded"; a forced reconcile created revision 2, which
  completed migrations and seeds. Proof of bootstrap: "select count(*) from users" returned 7.

  @finding-09 @T009
  Scenario: The Postgres subPath root cause outranks the Helm timeout
    Given a healthy appliance
    And the HelmRelease "alga-core" is not ready with reason "InstallFailed":
      """
      Helm install failed for release msp/alga-core with chart alga-core@0.1.0: context deadline exceeded
      """
    And the bootstrap Job "alga-core-sebastian-bootstrap-r1" failed:
      """
      Job has reached the specified backoff limit
      """
    And pod "db-0" of component "db" is waiting with reason "CreateContainerConfigError":
      """
      failed to create subPath directory for volumeMount "db-data" of container "postgres"
      """
    When the status is evaluated
    Then the top blocker layer is "Core Postgres storage initialization"
    And the top blocker is login-blocking
    And the top blocker reason does not mention "context deadline exceeded"

  @finding-09
  Scenario: A Helm timeout on its own is still reported, naming the HelmRelease
    Given a healthy appliance
    And the bootstrap Job "alga-core-sebastian-bootstrap-r1" is running
    And the HelmRelease "alga-core" is not ready with reason "InstallFailed":
      """
      Helm install failed for release msp/alga-core with chart alga-core@0.1.0: context deadline exceeded
      """
    When the status is evaluated
    Then some blocker mentions "context deadline exceeded"

  @finding-09
  Scenario: Prevented: our bootstrap Job waits for Postgres instead of timing out
    Given our "core" manifests
    Then the bootstrap Job waits for Postgres with "pg_isready" before migrating

  @finding-09
  Scenario: Prevented: in the observed world our bootstrap Job waits out Postgres and completes first time
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the Job "msp/alga-core-bootstrap" in the cluster completed without a failed attempt
    And no event mentions "BackoffLimitExceeded"

  @finding-10 @T010
  Scenario: A completed bootstrap Job with 7 seeded users is bootstrap-ready despite an unhealthy HelmRelease
    Given a healthy appliance
    And the HelmRelease "alga-core" is not ready with reason "InstallFailed":
      """
      Helm install failed for release msp/alga-core with chart alga-core@0.1.0: context deadline exceeded
      """
    And the bootstrap Job "alga-core-sebastian-bootstrap-r2" completed
    And the database has 7 seeded users
    When the status is evaluated
    Then the tier "bootstrap" is ready
    And the bootstrap seed shows 7 users, verified

  @finding-10
  Scenario: A completed Job without a measurable users count counts, and says so
    Given a healthy appliance
    And the bootstrap Job "alga-core-sebastian-bootstrap-r2" completed
    And the users count cannot be measured
    When the status is evaluated
    Then the tier "bootstrap" is ready
    And the bootstrap seed is not verified

  @finding-10
  Scenario: A completed Job with no seeded users is not bootstrap-ready
    Given a healthy appliance
    And the bootstrap Job "alga-core-sebastian-bootstrap-r2" completed
    And the database has 0 seeded users
    When the status is evaluated
    Then the tier "bootstrap" is not ready
    And the tier "login" is not ready

  @finding-09 @T009
  Scenario: The observed Helm timeout, replayed, is reported below its Postgres root cause
    Given the world "findings/finding-09-bootstrap-job-timeout-helm-revision-2" replayed for 23 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON rollup state is "failed_action_required"
    And the status JSON top blocker has layer "Core Postgres storage initialization"
    And some status JSON blocker mentions "context deadline exceeded"

  @finding-10
  Scenario: The observed seed, replayed, proves bootstrap with 7 users counted through exec
    Given the world "findings/finding-10-seeded-users" replayed for 10 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the status JSON shows 7 seeded users, verified
