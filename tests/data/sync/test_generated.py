"""Generated pushes and pulls: any order of the same writes converges, a replica that pulls as
it goes matches the server, and any bad input is refused alone with a clear error."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.data.collections.records import all_records, define
from tests.data.sync.syncing import Replica, new_txid
from tests.support.bad_input import (
    assert_clear_error,
    json_values,
    nested_json_text,
    nul_strings,
    out_of_range_numbers,
    unstorable_json,
)

KEYS = ["k1", "k2", "k3"]
FIELDS = ["a", "b", "c"]
CLIENTS = ["alpha", "beta", "gamma"]
_names = itertools.count()

# a stamp an hour or so in the past: the server takes it as it is
past = st.integers(0, 3_600_000).map(lambda ms: int(time.time() * 1000) - 3_700_000 + ms)

writes = st.builds(
    lambda op, key, fields, removed, at, client: {
        "op": op,
        "key": key,
        "fields": fields if op != "delete" else {},
        "removed": removed if op == "update" else [],
        "at": at,
        "client": client,
    },
    st.sampled_from(["insert", "put", "update", "delete"]),
    st.sampled_from(KEYS),
    st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 9), max_size=3),
    st.lists(st.sampled_from(FIELDS), max_size=2, unique=True),
    past,
    st.sampled_from(CLIENTS),
)


def as_mutation(collection: str, write: dict[str, Any], counter: int) -> dict[str, Any]:
    return {
        "collection": collection,
        "op": write["op"],
        "key": write["key"],
        "fields": write["fields"],
        "removed": write["removed"],
        "stamp": f"{write['at']:012x}{counter:04x}",
    }


def push_each(
    client: httpx.Client,
    collection: str,
    history: list[tuple[int, dict[str, Any]]],
    after_each: Callable[[], object] = lambda: None,
) -> None:
    """Each write in its own push, as its client sends it; ``after_each`` runs between them."""
    for counter, write in history:
        body = {
            "client": write["client"],
            "transactions": [
                {"txid": new_txid(), "mutations": [as_mutation(collection, write, counter)]}
            ],
        }
        response = client.post("/v1/sync/push", json=body)
        assert response.status_code == 200, response.text
        after_each()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=st.lists(writes, min_size=1, max_size=12), data=st.data())
def test_any_order_of_the_same_writes_converges(
    client: httpx.Client, history: list[dict[str, Any]], data: st.DataObject
) -> None:
    numbered = list(enumerate(history))
    shuffled = data.draw(st.permutations(numbered))
    first, second = f"conv{next(_names)}", f"conv{next(_names)}"
    define(client, first, "id")
    define(client, second, "id")
    replica = Replica(client, first)
    push_each(client, first, numbered, after_each=replica.sync)
    push_each(client, second, shuffled)
    in_order = sorted(all_records(client, first), key=lambda record: record["id"])
    out_of_order = sorted(all_records(client, second), key=lambda record: record["id"])
    assert in_order == out_of_order
    assert sorted(replica.records.values(), key=lambda record: record["id"]) == in_order


bad_mutations = st.one_of(
    json_values(max_leaves=6),
    st.fixed_dictionaries(
        {"collection": st.just("things"), "op": st.just("put"), "key": json_values(max_leaves=3)}
    ),
    st.fixed_dictionaries(
        {
            "collection": st.just("things"),
            "op": st.just("put"),
            "key": st.just("bad"),
            "fields": st.one_of(
                unstorable_json().map(lambda value: {"v": value}),
                nested_json_text(65, 300).map(lambda text: {"v": json.loads(text)}),
                st.builds(lambda s: {s: 1}, nul_strings()),
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "collection": st.one_of(st.text(max_size=60), nul_strings()),
            "op": st.sampled_from(["put", "update", "delete", "nope"]),
            "key": st.text(max_size=10),
            "stamp": st.one_of(st.text(max_size=20), st.integers()),
        }
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bad=st.lists(bad_mutations, min_size=1, max_size=5))
def test_bad_mutations_are_refused_alone(client: httpx.Client, bad: list[Any]) -> None:
    define(client, "things", "id")
    good = {"collection": "things", "op": "put", "key": "good", "fields": {"n": len(bad)}}
    body = {"client": "fuzz", "transactions": [{"txid": new_txid(), "mutations": [*bad, good]}]}
    response = client.post("/v1/sync/push", json=body)
    assert response.status_code == 200, response.text
    results = response.json()["transactions"][0]["results"]
    assert len(results) == len(bad) + 1
    assert results[-1]["status"] in {"applied", "unchanged"}
    for result in results[:-1]:
        if result["status"] == "rejected":
            assert result["error"]["code"]
            assert result["error"]["message"]
    assert client.get("/v1/collections/things/records/good").json()["n"] == len(bad)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(huge=out_of_range_numbers())
def test_numbers_past_a_double_are_refused_by_the_mutation(client: httpx.Client, huge: str) -> None:
    define(client, "things", "id")
    body = (
        f'{{"client": "c", "transactions": [{{"txid": "{new_txid()}", "mutations": ['
        f'{{"collection": "things", "op": "put", "key": "h", "fields": {{"n": {huge}}}}},'
        '{"collection": "things", "op": "put", "key": "ok", "fields": {"n": 1}}]}]}'
    )
    response = client.post(
        "/v1/sync/push", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    first, second = response.json()["transactions"][0]["results"]
    assert first["status"] == "rejected"
    assert "finite" in first["error"]["message"]
    assert second["status"] in {"applied", "unchanged"}  # unchanged: an earlier example put it


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    filter_text=st.one_of(st.text(max_size=80), nul_strings()),
    cursor=st.one_of(st.none(), st.text(max_size=40)),
    limit=st.one_of(st.integers(-5, 6000), st.text(max_size=5)),
)
def test_any_pull_gets_an_answer_or_a_clear_error(
    client: httpx.Client, filter_text: str, cursor: str | None, limit: Any
) -> None:
    define(client, "things", "id, n")
    body = {"collections": {"things": {"cursor": cursor, "filter": filter_text}}, "limit": limit}
    response = client.post("/v1/sync/pull", json=body)
    if response.status_code != 200:
        assert_clear_error(response, 422)
        return
    part = response.json()["collections"]["things"]
    assert "changes" in part or part["error"]["message"]
