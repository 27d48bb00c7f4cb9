"""Both planes publish an OpenAPI document describing their routes."""

from __future__ import annotations

import httpx

from tests.support.platform import PlatformThread
from tests.support.servers import ServedApp


def test_the_control_plane_documents_its_api(platform: PlatformThread) -> None:
    document = httpx.get(f"{platform.control_url}/openapi.json").json()
    assert document["info"]["title"] == "WebHost control plane"
    for path in [
        "/api/signup",
        "/api/login",
        "/api/deployments/{deployment_id}",
        "/api/keys",
        "/api/keys/{key_id}",
        "/api/plans",
    ]:
        assert path in document["paths"], path
    assert "201" in document["paths"]["/api/signup"]["post"]["responses"]


def test_the_data_plane_documents_its_api(data_server: ServedApp) -> None:
    document = httpx.get(f"{data_server.url}/openapi.json").json()
    assert document["info"]["title"] == "WebHost data plane"
    records = document["paths"]["/v1/collections/{name}/records"]
    assert {"get", "post"} <= set(records)
    assert "requestBody" in records["post"]
    assert {"get", "put", "patch", "delete"} <= set(
        document["paths"]["/v1/collections/{name}/records/{record_id}"]
    )
    assert "put" in document["paths"]["/v1/collections/{name}"]
