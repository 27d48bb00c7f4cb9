"""Ids of auto-increment collections: explicit ids cannot exhaust the sequence."""

from __future__ import annotations

import uuid

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.data.collections.records import all_records, define
from tests.support.bad_input import OVER_HTTP, assert_clear_error
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from webhost.data.collections.limits import MAX_AUTO_ID, MAX_EXPLICIT_ID
from webhost.db.urls import PostgresURL

BIGINT_MAX = 2**63 - 1
EDGES = [0, 1, MAX_EXPLICIT_ID, MAX_AUTO_ID, BIGINT_MAX]

explicit_ids = st.one_of(
    st.integers(1, MAX_EXPLICIT_ID),
    st.integers(-(2**64), 2**64),
    st.sampled_from([edge + offset for edge in EDGES for offset in (-1, 0, 1)]),
)
inserts = st.one_of(
    st.tuples(st.just("auto"), st.none()),
    st.tuples(st.sampled_from(["post", "put"]), explicit_ids),
)


def set_sequence(database: PostgresURL, tenant: ProvisionedTenant, name: str, value: int) -> None:
    """Move a collection's identity sequence, as years of inserts (or a past client) would."""
    table = f'"{tenant.tenant.name}"."c_{name}"'
    query(
        database,
        f"ALTER TABLE {table} ALTER COLUMN pk SET MAXVALUE {max(value, MAX_AUTO_ID)}",
    )
    query(database, "SELECT setval(pg_get_serial_sequence($1, 'pk'), $2)", table, value)


def test_any_mix_of_explicit_and_auto_ids_leaves_auto_ids_working(client: httpx.Client) -> None:
    @OVER_HTTP
    @given(steps=st.lists(inserts, max_size=12))
    def run(steps: list[tuple[str, int | None]]) -> None:
        name = f"ids_{uuid.uuid4().hex[:8]}"
        assert define(client, name, "++id").status_code == 201
        records = f"/v1/collections/{name}/records"
        existing: set[int] = set()
        for kind, key in [*steps, ("auto", None)]:
            if kind == "auto":
                created = client.post(records, json={})
                assert created.status_code == 201, created.text
                assert created.json()["id"] == max(existing, default=0) + 1 <= MAX_AUTO_ID
                existing.add(created.json()["id"])
            elif kind == "post":
                response = client.post(records, json={"id": key})
                assert key is not None
                if not 1 <= key <= MAX_EXPLICIT_ID:
                    assert_clear_error(response, 422)
                elif key in existing:
                    assert_clear_error(response, 409)
                else:
                    assert response.status_code == 201, response.text
                    existing.add(key)
            else:
                response = client.put(f"{records}/{key}", json={"replaced": True})
                assert key is not None
                if key in existing:
                    assert response.status_code == 200, response.text
                elif 1 <= key <= MAX_EXPLICIT_ID:
                    assert response.status_code == 201, response.text
                    existing.add(key)
                else:
                    assert_clear_error(response, 422)
        assert {record["id"] for record in all_records(client, name)} == existing
        assert client.delete(f"/v1/collections/{name}").status_code == 204

    run()


def test_the_largest_bigint_as_an_explicit_id_is_refused(client: httpx.Client) -> None:
    define(client, "events", "++id")
    for response in [
        client.post("/v1/collections/events/records", json={"id": BIGINT_MAX}),
        client.put(f"/v1/collections/events/records/{BIGINT_MAX}", json={}),
        client.put(f"/v1/collections/events/records/{MAX_EXPLICIT_ID + 1}", json={}),
    ]:
        error = assert_clear_error(response, 422)
        assert f"may be at most {MAX_EXPLICIT_ID} (2^52)" in error["message"]
    assert client.post("/v1/collections/events/records", json={}).json() == {"id": 1}
    assert client.post("/v1/collections/events/records", json={"id": MAX_EXPLICIT_ID}).json() == {
        "id": MAX_EXPLICIT_ID
    }
    assert client.post("/v1/collections/events/records", json={}).json() == {
        "id": MAX_EXPLICIT_ID + 1
    }


def test_records_past_the_explicit_limit_can_still_be_replaced(client: httpx.Client) -> None:
    define(client, "events", "++id")
    client.post("/v1/collections/events/records", json={"id": MAX_EXPLICIT_ID})
    auto = client.post("/v1/collections/events/records", json={"n": 1}).json()
    replaced = client.put(f"/v1/collections/events/records/{auto['id']}", json={"n": 2})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {"id": MAX_EXPLICIT_ID + 1, "n": 2}


def test_new_auto_increment_collections_stop_at_the_largest_safe_integer(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "events", "++id")
    rows = query(
        dataplane_database,
        "SELECT max_value FROM pg_sequences WHERE schemaname = $1 AND sequencename = $2",
        tenant.tenant.name,
        "c_events_pk_seq",
    )
    assert rows == [(MAX_AUTO_ID,)]


def test_an_exhausted_sequence_gets_409_and_explicit_ids_still_work(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    # MAX_AUTO_ID: a collection that has used every id; BIGINT_MAX: one pushed there by a client
    for name, last in [("used", MAX_AUTO_ID), ("pushed", BIGINT_MAX)]:
        define(client, name, "++id")
        kept = client.post(f"/v1/collections/{name}/records", json={"n": 1}).json()
        set_sequence(dataplane_database, tenant, name, last)
        response = client.post(f"/v1/collections/{name}/records", json={"n": 2})
        error = assert_clear_error(response, 409)
        assert error["code"] == "ids_exhausted"
        assert f"collection '{name}' has handed out its last auto-increment id" in error["message"]
        explicit = client.post(f"/v1/collections/{name}/records", json={"id": 7})
        assert explicit.status_code == 201, explicit.text
        assert all_records(client, name) == [kept, {"id": 7}]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    number=st.one_of(
        st.integers(-(10**40), 10**40),
        st.floats(allow_nan=False, allow_infinity=False).filter(
            lambda value: not (value.is_integer() and abs(value) > MAX_AUTO_ID)
        ),
    )
)
def test_a_number_key_comes_back_as_the_number_it_was(client: httpx.Client, number: float) -> None:
    define(client, "numbers", "id")
    created = client.post("/v1/collections/numbers/records", json={"id": number, "n": 1})
    if created.status_code == 409:  # an earlier example took this number
        return
    assert created.status_code == 201, created.text
    assert created.json()["id"] == number
    listed = client.get("/v1/collections/numbers/records", params={"id": f"eq.{number!r}"})
    assert created.json() in listed.json()


def test_a_whole_float_past_two_to_the_53_is_refused_as_a_key(client: httpx.Client) -> None:
    define(client, "numbers", "id")
    error = assert_clear_error(
        client.post("/v1/collections/numbers/records", json={"id": 7.260524722864092e73}), 422
    )
    assert "integer" in error["message"]
    # the record it would have been is nowhere, and the next write goes through at once
    assert all_records(client, "numbers") == []
    assert client.post("/v1/collections/numbers/records", json={"id": 10**30}).json() == {
        "id": 10**30
    }
