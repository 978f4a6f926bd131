"""World-level steps: scenarios of scenarios/ in the simulator, with the real bootstrapper."""
