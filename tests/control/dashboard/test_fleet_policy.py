"""The fleet page's CSP lets it reach its deployment's plane and the tile server, no more."""

from __future__ import annotations

from webhost.control.dashboard.fleet_page import fleet_page_policy


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


def test_the_plane_and_its_sockets_are_the_only_other_connections() -> None:
    policy = directives(fleet_page_policy("https://api.example.com:8443/base", ""))
    assert policy["connect-src"] == [
        "'self'",
        "https://api.example.com:8443",
        "wss://api.example.com:8443",
    ]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["script-src"] == ["'self'"]


def test_tile_servers_with_subdomain_placeholders_are_allowed_for_images() -> None:
    policy = directives(
        fleet_page_policy("http://127.0.0.1:8001", "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    )
    assert policy["img-src"] == ["'self'", "data:", "https://*.tile.example.org"]
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8001", "ws://127.0.0.1:8001"]
