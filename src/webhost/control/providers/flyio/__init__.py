"""Fly.io: a dedicated deployment as a Fly app of its own, managed through the Machines REST API.

``machines.FlyMachinesApi`` holds the idempotent operations provisioning steps are built from
(apps, volumes, secrets, IP assignments, machines); ``transport`` sends the requests, with the
token in a header and bounded retries; ``names`` checks what the caller passes before Fly.io is
asked; ``machine_config`` is what a data-plane machine runs.
"""
