Feature: The status UI comes up before the app
  During a fresh bootstrap the status API on :8080 must answer before the app URL does, so the
  admin can watch a long install instead of a silent terminal.

  @T020
  Scenario: During a fresh bootstrap the status API answers before the app URL
    Given the world "utm-rc5-observed"
    When the admin runs the observed fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8" while "appliance smoke monitor" watches
    Then the command succeeds
    And the monitor succeeds
    And the status API answered before the app URL
