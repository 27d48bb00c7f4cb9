"""A fake of the Fly.io Machines REST API for tests: ``serve_fake_fly`` runs it on a real port.

Built from Fly.io's Machines API reference and OpenAPI document (docs.machines.dev) and the
requests flyctl's own client sends; ``state.FakeFly`` holds what it knows and the faults to
inject, ``compute`` the rules of volumes and machines, ``http`` the routes.
"""

from __future__ import annotations

from tests.support.fakes.flyio.http import serve_fake_fly
from tests.support.fakes.flyio.state import FakeFly

__all__ = ["FakeFly", "serve_fake_fly"]
