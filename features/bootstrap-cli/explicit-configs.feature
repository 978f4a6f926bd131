Feature: Explicit kubeconfig and talosconfig are reused, never overwritten
  The operator wrapper ignored explicit kubeconfig/talosconfig reuse and overwrote the local
  talosconfig, breaking talosctl with "x509: certificate signed by unknown authority" while
  Kubernetes stayed usable.

  @finding-04 @T016
  Scenario: Explicit kubeconfig and talosconfig skip Talos config generation and stay untouched
    Given the world "happy-path" after a successful bootstrap
    And an explicit talosconfig file with known content
    When the admin runs "appliance bootstrap --bootstrap-mode recover --release-version 1.0-rc5 --site-id appliance-single-node --node-ip {node_ip} --hostname appliance-single-node --app-url {app_url} --dns-servers 1.1.1.1,8.8.8.8 --kubeconfig {kubeconfig} --talosconfig {talosconfig} --config-dir {config_dir} --repo-url {repo_url} --branch-override {branch} --dry-run"
    Then the command succeeds
    And talosctl was never asked to "gen config"
    And the explicit talosconfig file is unchanged
    And the explicit kubeconfig file is unchanged
