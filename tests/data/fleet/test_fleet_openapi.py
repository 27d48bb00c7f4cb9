"""The fleet routes are in the data plane's OpenAPI document, with what they take."""

from __future__ import annotations

import httpx

from tests.support.servers import ServedApp


def test_the_fleet_routes_are_documented(data_server: ServedApp) -> None:
    document = httpx.get(f"{data_server.url}/openapi.json").json()
    paths = document["paths"]
    assert {"get", "post"} <= set(paths["/v1/fleet/vehicles"])
    assert {"get", "patch", "delete"} <= set(paths["/v1/fleet/vehicles/{identifier}"])
    positions = paths["/v1/fleet/positions"]["post"]
    assert positions["tags"] == ["fleet"]
    content = positions["requestBody"]["content"]
    assert {"application/json", "application/x-ndjson"} <= set(content)
    assert content["application/json"]["schema"]["maxItems"] == 10_000
    answer = positions["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schemas = document["components"]["schemas"]
    assert {"accepted", "duplicates", "rejected"} <= set(
        schemas[answer.split("/")[-1]]["properties"]
    )
    for path in ("/v1/fleet/osmand", "/v1/fleet/osmand/{key}"):
        assert {"get", "post"} <= set(paths[path])
        names = {parameter["name"] for parameter in paths[path]["get"]["parameters"]}
        assert {"id", "lat", "lon", "timestamp", "speed"} <= names
