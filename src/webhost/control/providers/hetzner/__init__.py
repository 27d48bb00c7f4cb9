"""Hetzner Cloud: the shared hosts Hobby tenants live on (a server, its volume and firewall).

``cloud.HetznerCloud`` makes and removes those resources idempotently through the official
``hcloud`` library; ``cloud_init`` writes the user data that starts the shared data plane.
"""
