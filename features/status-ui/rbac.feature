Feature: The status service reads, and only reads
  The status service's ServiceAccount is bound to a read-only ClusterRole: it can list what the
  status needs and can neither read Secrets nor change anything. Proven by enforcement on the
  fake API, not by reading YAML.

  @T015
  Scenario: The status ServiceAccount token reads workloads but is refused Secrets and every write
    Given the fake API with our status manifests applied
    And a token for ServiceAccount "appliance-system/appliance-status"
    Then with that token listing "pods" in all namespaces is allowed
    And with that token listing "events" in all namespaces is allowed
    And with that token listing "helmreleases" in all namespaces is allowed
    And with that token reading Secret "appliance-system/appliance-status-auth" is forbidden
    And with that token listing "secrets" in all namespaces is forbidden
    And with that token creating a ConfigMap in "msp" is forbidden
    And with that token deleting pod "msp/db-0" is forbidden
    And with that token exec into "msp/db-0" is forbidden

  @T015
  Scenario: Our status ClusterRole grants no mutating verbs and no Secrets
    Given our "status" manifests
    Then the ClusterRole "appliance-status-readonly" grants only the verbs get, list and watch
    And the ClusterRole "appliance-status-readonly" grants nothing on "secrets"
