"""Playbooks: a YAML library of customer-success plays and the engine that runs them.

`model` and `conditions` describe a play (pure data, validated by pydantic); `loader` and
`library` read them from YAML; `context` gathers what triggers look at for every account in
bulk; `engine` starts and advances runs in the database; `report` measures what worked.
"""
