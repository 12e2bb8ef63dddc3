"""Who is calling: registered agents, their API keys and the scopes a key grants."""
