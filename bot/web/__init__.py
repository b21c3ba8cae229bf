"""The HTTP surface of `csbot serve`: Slack events, data ingest and health, on one port."""
