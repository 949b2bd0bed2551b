"""What operators watch: Prometheus metrics (`metrics` for the counters the roles bump as they
work, `scrape` for what is read from the data folder when /metrics is asked) and readiness.

Nothing is imported here, so a room that only bumps counters (the gateway, the switch) pulls in
`metrics` alone, never the rooms `scrape` reads.
"""
