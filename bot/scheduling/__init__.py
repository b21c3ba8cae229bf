"""Scheduled jobs: what runs when (`registry`), how one run is guarded (`runner`, `leases`),
the job bodies (`jobs`) and the APScheduler process around them (`service`).
"""
