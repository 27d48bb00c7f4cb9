"""A frozen tenant streamed as a dump from one plane's database and restored into another's is
equal table by table, even where the two differ in PostGIS; a dump that is cut or malformed is
refused with a message and leaves the target exactly as it was."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.data.tenancy.copies import dump_of, fill, in_transaction, provision_copy_target
from tests.support.clients import api_client
from tests.support.database import create_dataplane_database, provision_tenant
from tests.support.servers import ServedApp
from webhost.data.fleet import plane_choices
from webhost.data.tenancy import freeze, transfer
from webhost.data.tenancy.dump_frames import DumpError, frame, opening
from webhost.data.tenancy.restore import restore_tenant
from webhost.data.tenancy.scope import Tenant
from webhost.db.urls import PostgresURL


@pytest.fixture(scope="module")
def dumped(
    data_server: ServedApp, dataplane_database: PostgresURL
) -> Iterator[tuple[Tenant, bytes]]:
    """A tenant of its own, filled and frozen, and one dump of it."""
    tenant = provision_tenant(dataplane_database)
    with api_client(data_server.url, tenant.api_key) as client:
        fill(client)
    in_transaction(dataplane_database, lambda c: freeze.freeze(c, tenant.tenant))
    yield tenant.tenant, dump_of(dataplane_database, tenant.tenant)
    in_transaction(dataplane_database, lambda c: freeze.thaw(c, tenant.tenant))


@pytest.fixture(scope="module")
def restored_target(postgres_server: PostgresURL, dumped: tuple[Tenant, bytes]) -> PostgresURL:
    """A plane's database without PostGIS holding one restored copy of the dump."""
    target = create_dataplane_database(postgres_server, postgis=False)
    tenant, dump = dumped
    provision_copy_target(target, tenant)
    restore(target, tenant, [dump])
    return target


def restore(database: PostgresURL, tenant: Tenant, chunks: list[bytes]) -> transfer.CopyReport:
    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return in_transaction(database, lambda c: restore_tenant(c, tenant, stream()))


def digests_of(database: PostgresURL, tenant: Tenant) -> dict[str, transfer.TableDigest]:
    return in_transaction(database, lambda c: transfer.digests(c, tenant))


def sequences(database: PostgresURL, tenant: Tenant) -> dict[str, int]:
    async def read(connection: AsyncConnection) -> dict[str, int]:
        rows = await connection.execute(
            text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = :schema AND last_value IS NOT NULL"
            ),
            {"schema": tenant.name},
        )
        return {name: int(value) for name, value in rows}

    return in_transaction(database, read)


def test_a_restored_dump_equals_its_source_and_keeps_the_targets_fleet_choices(
    dataplane_database: PostgresURL, dumped: tuple[Tenant, bytes], restored_target: PostgresURL
) -> None:
    tenant, dump = dumped
    source = digests_of(dataplane_database, tenant)
    assert transfer.differences(source, digests_of(restored_target, tenant)) == []
    assert sequences(restored_target, tenant) == sequences(dataplane_database, tenant) != {}
    assert source["c_trips"].rows == 30
    assert source["fleet_positions"].rows == 20
    assert source["api_keys"].rows == 1
    choices = in_transaction(restored_target, lambda c: plane_choices.read_choices(c, tenant))
    assert choices is not None
    assert choices.spatial == "core"  # its own, whatever the source's
    # restored again in chunks of any size (a resumed move): still equal
    pieces = [dump[start : start + 7919] for start in range(0, len(dump), 7919)]
    report = restore(restored_target, tenant, pieces)
    assert report.rows == sum(digest.rows for name, digest in source.items() if name != "api_keys")
    assert transfer.differences(source, digests_of(restored_target, tenant)) == []


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.floats(min_value=0.0, max_value=0.999))
def test_a_dump_cut_anywhere_is_refused_and_changes_nothing(
    dataplane_database: PostgresURL,
    dumped: tuple[Tenant, bytes],
    restored_target: PostgresURL,
    cut: float,
) -> None:
    tenant, dump = dumped
    before = digests_of(restored_target, tenant)
    with pytest.raises(DumpError, match=r"incomplete|not a tenant dump|not a line of JSON"):
        restore(restored_target, tenant, [dump[: int(len(dump) * cut)]])
    assert transfer.differences(before, digests_of(restored_target, tenant)) == []


def forged(*frames: bytes) -> list[bytes]:
    return [opening(), *frames]


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([b"{not json\n"], "not a line of JSON"),
        ([b"[1, 2]\n"], "not a JSON object"),
        ([frame("mystery")], "unknown frame kind"),
        ([frame("table", table="../public.x", columns=["pk"])], "not a table of this tenant"),
        ([frame("table", table="pg_class", columns=["oid"])], "not a table of this tenant"),
        ([frame("table", table="a\x00b", columns=["pk"])], "1 to 63 characters"),
        ([frame("table", table="c_trips", columns=["pk", 'evil"col'])], "columns the target"),
        ([frame("table", table="c_trips", columns=[])], "non-empty list"),
        ([frame("table", table="c_trips", columns=["pk"]), frame("data", size=-4)], "size"),
        ([frame("table", table="c_trips", columns=["pk"]), frame("keys", keys=[])], "inside"),
        ([frame("weeks", weeks=["2026-12-02"])], "Monday"),
        ([frame("weeks", weeks="2026-11-30")], "list"),
        ([frame("sequences", values={"public_seq": 5})], "not a sequence of this tenant"),
        ([frame("keys", keys=[{"prefix": "x"}])], "lacks"),
        ([frame("keys", keys=[{"prefix": 5, "secret_digest": "d"}])], "strings"),
        ([frame("end", tables=3, rows=9)], "3 tables and 9 rows"),
        ([b'{"kind": "weeks", "weeks": []}'], "incomplete"),
    ],
)
def test_a_malformed_dump_is_refused_with_what_is_wrong_and_changes_nothing(
    dumped: tuple[Tenant, bytes],
    restored_target: PostgresURL,
    frames: list[bytes],
    message: str,
) -> None:
    tenant, _ = dumped
    before = digests_of(restored_target, tenant)
    with pytest.raises(DumpError, match=message):
        restore(restored_target, tenant, forged(*frames))
    assert transfer.differences(before, digests_of(restored_target, tenant)) == []


def test_a_stream_that_is_not_a_dump_is_refused(
    dumped: tuple[Tenant, bytes], restored_target: PostgresURL
) -> None:
    tenant, _ = dumped
    other = json.dumps({"format": "webhost-tenant-dump", "version": 99}).encode() + b"\n"
    with pytest.raises(DumpError, match="version 1"):
        restore(restored_target, tenant, [other])
