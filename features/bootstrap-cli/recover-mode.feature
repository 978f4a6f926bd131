Feature: Recover mode resumes idempotently
  `--bootstrap-mode recover` with an existing kubeconfig continued the app install. Running it
  against an installed appliance converges without redoing the host phase.

  @finding-05 @finding-04 @T016
  Scenario: Recover with an existing kubeconfig continues the install, converges, and keeps the admin's files
    Given the world "happy-path" after a successful bootstrap of its own
    And an explicit talosconfig file with known content
    When the admin runs "appliance bootstrap --bootstrap-mode recover --release-version 1.0-rc5 --site-id appliance-single-node --profile talos-single-node --node-ip {node_ip} --hostname appliance-single-node --app-url {app_url} --dns-servers 1.1.1.1,8.8.8.8 --kubeconfig {kubeconfig} --talosconfig {talosconfig} --config-dir {config_dir} --repo-url {repo_url} --branch-override {branch} --registry-url {registry_url}"
    Then the command succeeds
    And talosctl was never asked to "gen config"
    And the explicit talosconfig file is unchanged
    And the explicit kubeconfig file is unchanged
    And the status service reports the tier "login" ready
