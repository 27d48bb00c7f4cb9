"""Collection schemas are cached per plane and dropped in every plane when a collection changes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.data.collections.records import define
from tests.data.yjs.planes import StartedPlane, StartPlane
from tests.support.bad_input import assert_clear_error
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.polling import wait_until
from webhost.data.collections.catalogue_cache import CollectionCache
from webhost.data.collections.dexie_schema import parse_schema
from webhost.data.collections.tables import StoredCollection
from webhost.data.tenancy.scope import Tenant


def stored(name: str, schema: str = "id") -> StoredCollection:
    return StoredCollection(name=name, schema=parse_schema(schema), index_names={})


@contextmanager
def two_planes(
    start_plane: StartPlane, tenant: ProvisionedTenant
) -> Iterator[tuple[StartedPlane, httpx.Client, httpx.Client]]:
    """Two planes on one database: the first one, and a client of each."""
    first, second = start_plane(), start_plane()
    with (
        api_client(first.served.url, tenant.api_key) as one,
        api_client(second.served.url, tenant.api_key) as other,
    ):
        yield first, one, other


def test_a_change_made_through_one_plane_reaches_the_cache_of_another(
    start_plane: StartPlane, tenant: ProvisionedTenant
) -> None:
    with two_planes(start_plane, tenant) as (first, one, other):
        assert define(one, "notes", "id, title").status_code == 201
        assert one.post("/v1/collections/notes/records", json={"id": "a", "title": "x"}).is_success
        assert first.plane.catalogue.cache.get(tenant.tenant, "notes") is not None

        assert define(other, "notes", "id, &title").status_code == 200
        wait_until(
            lambda: first.plane.catalogue.cache.get(tenant.tenant, "notes") is None,
            message="the change notice to drop the cached schema",
        )
        clash = one.post("/v1/collections/notes/records", json={"id": "b", "title": "x"})
        assert "unique index '&title'" in assert_clear_error(clash, 409)["message"]

        assert other.delete("/v1/collections/notes").status_code == 204
        # at once, whether or not the notice has arrived: a clear 404, never a 500
        gone = one.get("/v1/collections/notes/records")
        assert "'notes' does not exist" in assert_clear_error(gone, 404)["message"]


def test_a_collection_created_elsewhere_is_found_at_once(
    start_plane: StartPlane, tenant: ProvisionedTenant
) -> None:
    with two_planes(start_plane, tenant) as (_first, one, other):
        name = f"c_{uuid.uuid4().hex[:8]}"
        assert one.get(f"/v1/collections/{name}/records").status_code == 404
        assert define(other, name, "id").status_code == 201
        assert one.get(f"/v1/collections/{name}/records").json() == []


def test_the_cache_keeps_the_most_recently_used_schemas_within_its_bound() -> None:
    cache = CollectionCache(max_entries=2)
    tenant = Tenant(id=uuid.uuid4(), name="t_0123456789abcdef")
    for name in ["a", "b"]:
        cache.put(tenant, stored(name))
    assert cache.get(tenant, "a") is not None
    cache.put(tenant, stored("c"))
    assert [cache.get(tenant, name) is not None for name in "abc"] == [True, False, True]
    cache.on_change_notice(f"{tenant.name}.c")
    assert cache.get(tenant, "c") is None
    assert len(cache) == 1
