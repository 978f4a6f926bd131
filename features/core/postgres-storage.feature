Feature: Core Postgres storage initialization
  db-0 was stuck in CreateContainerConfigError with "failed to create subPath directory for
  volumeMount "db-data"". Creating /mnt/data in the PVC by hand and deleting db-0 fixed it. The
  status names the layer and that remedy; our StatefulSet initialises the subPath itself.

  @finding-07 @T005
  Scenario: The Postgres subPath failure is reproduced and diagnosed as core storage
    Given a healthy appliance
    And pod "db-0" of component "db" is waiting with reason "CreateContainerConfigError":
      """
      failed to create subPath directory for volumeMount "db-data" of container "postgres"
      """
    And a Warning event "Failed" on pod "db-0" 20 minutes ago:
      """
      Error: failed to create subPath directory for volumeMount "db-data" of container "postgres"
      """
    When the status is evaluated
    Then the rollup state is "failed_action_required"
    And the tier "core" is not ready
    And the tier "login" is not ready
    And the top blocker layer is "Core Postgres storage initialization"
    And the top blocker component is "db"
    And the top blocker is login-blocking
    And the top blocker cites evidence from "db-0"

  @finding-08
  Scenario: The next action names the observed remedy
    Given a healthy appliance
    And pod "db-0" of component "db" is waiting with reason "CreateContainerConfigError":
      """
      failed to create subPath directory for volumeMount "db-data" of container "postgres"
      """
    When the status is evaluated
    Then the top blocker layer is "Core Postgres storage initialization"
    And the top blocker next action mentions "/mnt/data"
    And the top blocker next action mentions "db-0"

  @finding-07 @finding-08
  Scenario: Prevented: our Postgres StatefulSet creates the data subPath before Postgres starts
    Given our "core" manifests
    Then the StatefulSet "db" has an init container whose command contains "mkdir -p /mnt/data"
    And that init container mounts the volume that "postgres" mounts at a subPath

  @finding-07 @finding-08
  Scenario: Prevented: with our manifests db-0 never fails on its subPath in the observed world
    Given the world "utm-rc5-observed" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And no event mentions "failed to create subPath directory"
    And the component "db" is ready

  @finding-07 @finding-08 @T005
  Scenario: The observed subPath failure, replayed, is diagnosed by appliance status
    Given the world "findings/finding-07-db-subpath" replayed for 10 minutes
    When the admin runs "appliance status --kubeconfig {kubeconfig} --app-url {app_url} --json"
    Then the command fails
    And the status JSON rollup state is "failed_action_required"
    And the status JSON blocker for "db" has layer "Core Postgres storage initialization"
    And that blocker is login-blocking
    And that blocker's next action mentions "mkdir -p /mnt/data"
