Feature: appliance reset never dies on unset values
  The observed fresh reset died with "reset-appliance-data.sh: line 167: target: unbound
  variable". `appliance reset` has --force and --dry-run and never fails on a value left unset.

  @finding-03 @T017
  Scenario: reset --force --dry-run succeeds and changes nothing
    Given the world "happy-path" after a successful bootstrap
    When the admin runs "appliance reset --kubeconfig {kubeconfig} --force --dry-run"
    Then the command succeeds
    And the output does not contain "unbound variable"
    And the fake API received no mutating request during the command

  @finding-03
  Scenario: reset without --force refuses and says how to proceed
    Given the world "happy-path" after a successful bootstrap
    When the admin runs "appliance reset --kubeconfig {kubeconfig}"
    Then the command fails
    And the output contains "--force"
    And the output does not contain "unbound variable"
