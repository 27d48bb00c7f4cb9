"""HTTP clients for tests, authenticated the way real callers are."""

from __future__ import annotations

import ssl

import httpx


def api_client(
    base_url: str, api_key: str | None = None, *, verify: ssl.SSLContext | bool = True
) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30, verify=verify)
