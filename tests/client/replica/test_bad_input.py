"""Bad input to the local API is refused with a message that says what is wrong, before
anything reaches the replica or its outbox."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.client.replica.test_local_writes import offline
from tests.support.bad_input import json_values, nested_json_text, unstorable_json, wrapped
from webhost.client import LocalCollection, LocalInputError, RecordNotFound, WebHostClient

LOCAL = settings(max_examples=40, deadline=None, derandomize=True)


def with_notes(scenario: Callable[[WebHostClient, LocalCollection], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with offline() as client:
            notes = await client.replicate("notes", schema="id, slug")
            await notes.insert({"id": "existing", "slug": "e"})
            result = await scenario(client, notes)
            # nothing refused was written: the one record is as it was
            assert await notes.all() == [{"id": "existing", "slug": "e"}]
            return result

    return asyncio.run(run())


def refused(message: str, attempt: Callable[[LocalCollection], Awaitable[Any]]) -> None:
    async def scenario(client: WebHostClient, notes: LocalCollection) -> None:
        with pytest.raises(LocalInputError, match=message):
            await attempt(notes)

    with_notes(scenario)


not_json = st.one_of(
    st.builds(set),
    st.binary(max_size=3),
    st.just(datetime.date(2024, 1, 1)),
    st.builds(object),
    st.complex_numbers(allow_nan=False, allow_infinity=False),
)


@LOCAL
@given(wrapped(not_json))
def test_values_that_are_not_json_are_refused(value: Any) -> None:
    refused("is not a JSON value", lambda notes: notes.insert({"id": "n", "body": value}))


@LOCAL
@given(unstorable_json())
def test_text_the_server_cannot_store_is_refused(value: Any) -> None:
    refused("NUL character", lambda notes: notes.insert({"id": "n", "body": value}))


@LOCAL
@given(nested_json_text(65, 100))
def test_json_nested_too_deep_is_refused(text: str) -> None:
    value = json.loads(text)
    refused("more than 64 levels", lambda notes: notes.put({"id": "n", "body": value}))


@LOCAL
@given(
    st.dictionaries(
        st.text(min_size=1).filter(lambda k: "\x00" not in k and k != "id"),
        json_values(),
        max_size=5,
    )
)
def test_any_json_record_round_trips(fields: dict[str, Any]) -> None:
    async def scenario(client: WebHostClient, notes: LocalCollection) -> None:
        await notes.insert({"id": "n", **fields})
        assert await notes.get("n") == {"id": "n", **fields}
        await notes.delete("n")

    with_notes(scenario)


@pytest.mark.parametrize(
    ("message", "attempt"),
    [
        ("must be a dict", lambda notes: notes.insert(["id", "n"])),
        ("must be a dict", lambda notes: notes.put(None)),
        ("keys of objects must be strings", lambda notes: notes.insert({"id": "n", 1: "one"})),
        ("must be finite", lambda notes: notes.insert({"id": "n", "x": float("nan")})),
        ("needs the record's 'id'", lambda notes: notes.put({"slug": "s"})),
        ("takes keys the app chooses", lambda notes: notes.insert({"slug": "s"})),
        ("must be a string or a number, not bool", lambda notes: notes.insert({"id": True})),
        ("must be a string or a number, not list", lambda notes: notes.get([1])),
        ("must not be empty", lambda notes: notes.put({"id": ""})),
        ("numbers must be finite", lambda notes: notes.put({"id": float("inf")})),
        ("must be a finite number", lambda notes: notes.delete(float("-inf"))),
        ("longer than 2000 bytes", lambda notes: notes.put({"id": "é" * 1001})),
        ("already exists", lambda notes: notes.insert({"id": "existing"})),
        ("is the key", lambda notes: notes.update("existing", {"id": "other"})),
        ("is the key", lambda notes: notes.update("existing", {}, remove=["id"])),
        ("needs fields to change or to remove", lambda notes: notes.update("existing", {})),
        (
            "both changed and removed",
            lambda notes: notes.update("existing", {"a": 1}, remove=["a"]),
        ),
        (
            "must be a list of field names",
            lambda notes: notes.update("existing", {}, remove="slug"),
        ),
    ],
)
def test_records_keys_and_updates_are_checked(
    message: str, attempt: Callable[[LocalCollection], Awaitable[Any]]
) -> None:
    refused(message, attempt)


def test_missing_records_cannot_be_updated_or_deleted() -> None:
    async def scenario(client: WebHostClient, notes: LocalCollection) -> None:
        with pytest.raises(RecordNotFound, match="no record 'gone'"):
            await notes.update("gone", {"slug": "x"})
        with pytest.raises(RecordNotFound):
            await notes.delete("gone")
        with pytest.raises(RecordNotFound, match="no record 7"):
            await notes.delete(7)

    with_notes(scenario)


@pytest.mark.parametrize(
    ("message", "options"),
    [
        ("numbers its records on the server", {"name": "events", "schema": "++id, at"}),
        ("schema is empty", {"name": "events", "schema": " "}),
        ("invalid collection name", {"name": "no spaces", "schema": "id"}),
        ("takes no 'order'", {"name": "events", "schema": "id", "filter": "order=at"}),
        ("unknown operator|operator", {"name": "events", "schema": "id", "filter": "at=about.5"}),
    ],
)
def test_scopes_are_checked(message: str, options: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with offline() as client:
            name = options.pop("name")
            with pytest.raises(LocalInputError, match=message):
                await client.replicate(name, **options)

    asyncio.run(scenario())


def test_unknown_collections_and_ended_transactions_are_refused() -> None:
    async def scenario(client: WebHostClient, notes: LocalCollection) -> None:
        with pytest.raises(LocalInputError, match="not replicated: call replicate"):
            client.collection("tasks")
        async with client.transaction() as tx:
            with pytest.raises(LocalInputError, match="not replicated"):
                tx.insert("tasks", {"id": 1})
        with pytest.raises(LocalInputError, match="transaction has ended"):
            tx.insert("notes", {"id": "late"})

    with_notes(scenario)
