Feature: Recover mode resumes idempotently
  `--bootstrap-mode recover` with an existing kubeconfig continued the app install. Running it
  against an installed appliance converges without redoing the host phase.

  @finding-05
  Scenario: Recover with an existing kubeconfig continues the install and converges
    Given the world "happy-path" after a successful bootstrap of its own
    When the admin runs "appliance bootstrap --bootstrap-mode recover --release-version 1.0-rc5 --site-id appliance-single-node --profile talos-single-node --node-ip {node_ip} --hostname appliance-single-node --app-url {app_url} --dns-servers 1.1.1.1,8.8.8.8 --kubeconfig {kubeconfig} --config-dir {config_dir} --repo-url {repo_url} --branch-override {branch}"
    Then the command succeeds
    And talosctl was never asked to "gen config"
    And the status service reports the tier "login" ready
