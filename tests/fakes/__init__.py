"""Real servers on loopback that speak the real protocols (Bot API, Slack Web API, sources)."""
