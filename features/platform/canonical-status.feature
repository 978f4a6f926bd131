Feature: The canonical status JSON
  Every consumer reads one camelCase JSON shape: siteId, timestamp, release, urls, rollup, tiers,
  topBlockers, components, recentEvents, activeOperations, loginProbe, bootstrap.

  @T001
  Scenario: A healthy appliance serialises to the canonical JSON shape
    Given a healthy appliance
    When the status is evaluated
    Then the canonical JSON has the keys:
      | key              |
      | siteId           |
      | timestamp        |
      | release          |
      | urls             |
      | rollup           |
      | tiers            |
      | topBlockers      |
      | components       |
      | recentEvents     |
      | activeOperations |
      | loginProbe       |
      | bootstrap        |
    And the canonical JSON tiers are platform, core, bootstrap, login, background and fullHealth
    And the canonical JSON has no top blockers
    And the canonical JSON lists the components db, redis, pgbouncer, alga-core, email-service, temporal, temporal-ui, workflow-worker and temporal-worker

