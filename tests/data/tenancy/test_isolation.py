from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp
from webhost.data.tenancy.scope import tenant_transaction
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


def test_a_tenant_sees_nothing_of_another(
    data_server: ServedApp, tenant: ProvisionedTenant, other_tenant: ProvisionedTenant
) -> None:
    with api_client(data_server.url, tenant.api_key) as owner:
        owner.put("/v1/collections/posts", json={"schema": "++id, title"})
        owner.post("/v1/collections/posts/records", json={"title": "secret"})
    with api_client(data_server.url, other_tenant.api_key) as intruder:
        assert intruder.get("/v1/collections").json() == []
        assert intruder.get("/v1/collections/posts/records").status_code == 404
        assert intruder.get("/v1/collections/posts/records/1").status_code == 404
        assert intruder.delete("/v1/collections/posts").status_code == 404
        # creating the same name gives the intruder its own, empty collection
        assert intruder.put("/v1/collections/posts", json={"schema": "++id"}).status_code == 201
        assert intruder.get("/v1/collections/posts/records").json() == []
    with api_client(data_server.url, tenant.api_key) as owner:
        assert [r["title"] for r in owner.get("/v1/collections/posts/records").json()] == ["secret"]


@pytest.mark.parametrize(
    "crafted",
    [
        "..%2Fx",
        "%2e%2e%2fposts",
        "x%22%3B%20DROP%20TABLE%20posts%3B--",
        "other_schema.posts",
        "t_0000000000000000.c_posts",
        "%27posts%27",
        "posts%00",
    ],
)
def test_crafted_collection_names_are_refused(
    data_server: ServedApp, tenant: ProvisionedTenant, other_tenant: ProvisionedTenant, crafted: str
) -> None:
    victim_table = f"{tenant.tenant.name}.posts"
    with api_client(data_server.url, other_tenant.api_key) as intruder:
        for name in (crafted, victim_table):
            listing = intruder.get(f"/v1/collections/{name}/records")
            assert listing.status_code in {404, 422}, listing.text
            definition = intruder.put(f"/v1/collections/{name}", json={"schema": "++id"})
            assert definition.status_code in {404, 422}, definition.text


def test_crafted_filters_cannot_escape_the_record_table(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with api_client(data_server.url, tenant.api_key) as client:
        client.put("/v1/collections/posts", json={"schema": "++id, title"})
        client.post("/v1/collections/posts/records", json={"title": "a"})
        for params in [
            {"title": "eq.a' OR '1'='1"},
            {"title')) OR true --": "eq.a"},
            {"order": "title; DROP TABLE posts"},
            {"title": "in.(a') OR true --)"},
        ]:
            response = client.get("/v1/collections/posts/records", params=params)
            assert response.status_code in {200, 422}
            if response.status_code == 200:
                assert response.json() == []
        assert len(client.get("/v1/collections/posts/records").json()) == 1


def test_the_database_itself_refuses_cross_tenant_access(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    tenant: ProvisionedTenant,
    other_tenant: ProvisionedTenant,
) -> None:
    with api_client(data_server.url, tenant.api_key) as owner:
        owner.put("/v1/collections/posts", json={"schema": "++id"})

    async def read_as_intruder(statement: str) -> None:
        engine = create_engine(dataplane_database, pool_size=1)
        try:
            async with tenant_transaction(engine, other_tenant.tenant) as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    victim = tenant.tenant.name
    for statement in [
        f'SELECT * FROM "{victim}"."c_posts"',
        f'SELECT * FROM "{victim}"._yjs_updates',
        "SELECT * FROM webhost_dataplane.api_keys",
        f'CREATE TABLE "{victim}".planted (x int)',
    ]:
        with pytest.raises(ProgrammingError, match="permission denied"):
            asyncio.run(read_as_intruder(statement))
