"""What sits around the cluster on a real appliance: the Talos host and `talosctl`, the `flux`
CLI, the OCI registry, the app endpoint, and our own images run as real processes."""
