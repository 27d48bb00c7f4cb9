"""Generated histories of good and bad requests: a refusal is a clear 4xx that changes nothing,
and every record the server said it stored is there, as it said, at the end."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from tests.data.collections.records import JSON, all_records, define
from tests.support.bad_input import (
    OVER_HTTP,
    assert_clear_error,
    json_values,
    nested_json_text,
    nul_strings,
    out_of_range_numbers,
    sized_text,
    unstorable_json,
)
from webhost.data.collections.limits import MAX_INDEXED_BYTES
from webhost.validation import MAX_JSON_DEPTH

SCHEMA = "id, title, &slug, [a+b], *tags"
FIELDS = ["title", "slug", "a", "b", "tags", "other"]

# good input comes twice as often as each kind of bad, so histories build up records
usual_ids = st.sampled_from(["r1", "r2", "r3"])
record_ids = st.one_of(
    usual_ids,
    usual_ids,
    st.text(min_size=1, max_size=20),
    nul_strings(),
    sized_text(MAX_INDEXED_BYTES - 2, MAX_INDEXED_BYTES + 2),
).filter(lambda text: "/" not in text and text not in {".", ".."})

good_records = st.dictionaries(st.sampled_from(FIELDS), json_values(max_leaves=6), max_size=4)
bad_values = st.one_of(
    sized_text(MAX_INDEXED_BYTES + 1, 10_000).map(json.dumps),
    unstorable_json().map(json.dumps),
    nested_json_text(MAX_JSON_DEPTH, 2_000),
    out_of_range_numbers(),
)
bodies = st.one_of(
    good_records.map(json.dumps),
    good_records.map(json.dumps),
    st.builds(lambda field, value: f'{{"{field}": {value}}}', st.sampled_from(FIELDS), bad_values),
    json_values().filter(lambda value: not isinstance(value, dict)).map(json.dumps),
)


def test_any_history_keeps_what_was_accepted(client: httpx.Client) -> None:
    class RecordHistory(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.collection = f"h_{uuid.uuid4().hex[:8]}"
            assert define(client, self.collection, SCHEMA).status_code == 201
            self.stored: dict[str, dict[str, Any]] = {}

        def path(self, record_id: str | None = None) -> str:
            records = f"/v1/collections/{self.collection}/records"
            return records if record_id is None else f"{records}/{quote(record_id, safe='')}"

        def check(self, response: httpx.Response) -> None:
            """Keep what a 2xx says was stored; a refusal must be a clear client error."""
            if response.status_code in {200, 201}:
                record = response.json()
                self.stored[record["id"]] = record
            else:
                assert_clear_error(response)

        @rule(body=bodies)
        def create(self, body: str) -> None:
            self.check(client.post(self.path(), content=body, headers=JSON))

        @rule(record_id=record_ids, body=bodies)
        def replace(self, record_id: str, body: str) -> None:
            self.check(client.put(self.path(record_id), content=body, headers=JSON))

        @rule(record_id=record_ids, body=bodies)
        def patch(self, record_id: str, body: str) -> None:
            self.check(client.patch(self.path(record_id), content=body, headers=JSON))

        @rule(record_id=record_ids)
        def delete(self, record_id: str) -> None:
            response = client.delete(self.path(record_id))
            if response.status_code == 204:
                del self.stored[record_id]
            else:
                assert_clear_error(response)

        @rule(record_id=record_ids)
        def read(self, record_id: str) -> None:
            response = client.get(self.path(record_id))
            if record_id in self.stored:
                assert response.json() == self.stored[record_id]
            else:
                assert_clear_error(response)

        @rule(field=st.sampled_from([*FIELDS, "id"]), value=bad_values)
        def search(self, field: str, value: str) -> None:
            response = client.get(self.path(), params={field: f"cs.{value}"})
            if response.status_code != 200:
                assert_clear_error(response)

        def teardown(self) -> None:
            listed = {record["id"]: record for record in all_records(client, self.collection)}
            assert listed == self.stored
            client.delete(f"/v1/collections/{self.collection}")

    run_state_machine_as_test(
        RecordHistory, settings=settings(OVER_HTTP, max_examples=25, stateful_step_count=15)
    )
