Feature: Release versions with prereleases
  A build-images check rejected "1.0-rc5" with "release-version must follow x.y.z". Versions with
  prereleases are accepted everywhere.

  @finding-19
  Scenario: The bootstrapper accepts the prerelease version 1.0-rc5
    Given a fresh config directory
    When the admin runs "appliance bootstrap --bootstrap-mode fresh --release-version 1.0-rc5 --node-ip 192.0.2.10 --hostname alga-appliance --app-url http://192.0.2.10:3000 --interface enp0s1 --network-mode dhcp --dns-servers 1.1.1.1,8.8.8.8 --install-disk /dev/sda --repo-url https://github.com/nine-minds/alga-psa --branch-override release/1.0-rc5 --skip-image-tag-validation --config-dir {config_dir} --dry-run"
    Then the command succeeds
    And the output does not contain "must follow x.y.z"

  @finding-19
  Scenario: A well-formed prerelease without a release manifest is refused for the manifest, not its format
    Given a fresh config directory
    When the admin runs "appliance bootstrap --bootstrap-mode fresh --release-version 1.1-rc1 --node-ip 192.0.2.10 --hostname alga-appliance --app-url http://192.0.2.10:3000 --dns-servers 1.1.1.1,8.8.8.8 --repo-url https://github.com/nine-minds/alga-psa --branch-override release/1.0-rc5 --skip-image-tag-validation --config-dir {config_dir} --dry-run"
    Then the command fails
    And the output contains "1.1-rc1"
    And the output contains "release manifest"
    And the output does not contain "must follow x.y.z"

  @finding-19
  Scenario: A malformed release version is refused with a clear message
    Given a fresh config directory
    When the admin runs "appliance bootstrap --bootstrap-mode fresh --release-version not-a-version --node-ip 192.0.2.10 --hostname alga-appliance --app-url http://192.0.2.10:3000 --dns-servers 1.1.1.1,8.8.8.8 --repo-url https://github.com/nine-minds/alga-psa --branch-override release/1.0-rc5 --config-dir {config_dir} --dry-run"
    Then the command fails
    And the output contains "not-a-version"
