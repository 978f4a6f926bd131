"""Real clusters in and out: record a cluster into a scenario, replay a scenario onto a cluster."""
