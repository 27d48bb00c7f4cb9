"""Pushes: applied once per txid, merged per field by stamp, refused mutation by mutation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.data.collections.records import define
from tests.data.sync.syncing import mutation, push, results, stamp, transaction
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp


def test_a_pushed_record_is_visible_through_rest_at_once(client: httpx.Client) -> None:
    define(client, "tasks", "@id, title, projectId")
    answer = push(
        client,
        transaction(mutation("tasks", "insert", "01TASK", {"title": "Write", "projectId": 42})),
    )
    (result,) = results(answer)
    assert result["status"] == "applied"
    assert isinstance(result["revision"], int)
    assert len(answer["clock"]) == 16
    assert client.get("/v1/collections/tasks/records/01TASK").json() == {
        "id": "01TASK",
        "title": "Write",
        "projectId": 42,
    }
    listed = client.get("/v1/collections/tasks/records", params={"projectId": "eq.42"}).json()
    assert listed == [{"id": "01TASK", "title": "Write", "projectId": 42}]


def test_a_retried_push_applies_nothing_twice(client: httpx.Client) -> None:
    define(client, "counters", "id")
    first = transaction(
        mutation("counters", "insert", "c", {"n": 1}),
        mutation("counters", "update", "c", {"n": 2}),
        txid="tx-retried",
    )
    applied = push(client, first)
    assert [r["status"] for r in results(applied)] == ["applied", "applied"]
    assert applied["transactions"][0]["duplicate"] is False
    revision = client.get("/v1/sync").json()["revision"]
    again = push(client, first, transaction(mutation("counters", "update", "c", {"m": 1})))
    assert again["transactions"][0]["duplicate"] is True
    assert results(again)[:2] == results(applied)
    assert client.get("/v1/sync").json()["revision"] == revision + 1  # only the new one
    assert client.get("/v1/collections/counters/records/c").json() == {"id": "c", "n": 2, "m": 1}


def test_a_txid_of_another_client_is_refused(client: httpx.Client) -> None:
    define(client, "notes", "id")
    taken = transaction(mutation("notes", "insert", "n", {"text": "mine"}), txid="tx-shared")
    push(client, taken, client_id="replica-a")
    forged = transaction(mutation("notes", "insert", "n", {"text": "theirs"}), txid="tx-shared")
    (refused,) = results(push(client, forged, client_id="replica-b"))
    assert refused["status"] == "rejected"
    assert "another client" in refused["error"]["message"]
    assert refused["record"] == {"id": "n", "text": "mine"}


def test_different_fields_from_two_clients_are_both_kept(client: httpx.Client) -> None:
    define(client, "docs", "id")
    created = mutation("docs", "insert", "d", {"title": "T", "body": "B"}, stamp=stamp(-60_000))
    push(client, transaction(created))
    push(
        client,
        transaction(mutation("docs", "update", "d", {"title": "T2"}, stamp=stamp(-5000))),
        client_id="replica-a",
    )
    push(
        client,
        transaction(mutation("docs", "update", "d", {"body": "B2"}, stamp=stamp(-9000))),
        client_id="replica-b",
    )
    assert client.get("/v1/collections/docs/records/d").json() == {
        "id": "d",
        "title": "T2",
        "body": "B2",
    }


def test_the_same_field_ends_with_the_latest_stamp_whatever_the_order(
    client: httpx.Client,
) -> None:
    define(client, "docs", "id")
    push(
        client, transaction(mutation("docs", "insert", "d", {"title": "old"}, stamp=stamp(-60_000)))
    )
    later = transaction(mutation("docs", "update", "d", {"title": "later"}, stamp=stamp(-1000)))
    earlier = transaction(mutation("docs", "update", "d", {"title": "earlier"}, stamp=stamp(-2000)))
    assert results(push(client, later, client_id="replica-a"))[0]["status"] == "applied"
    (stale,) = results(push(client, earlier, client_id="replica-b"))
    assert stale["status"] == "unchanged"
    assert stale["record"] == {"id": "d", "title": "later"}
    assert client.get("/v1/collections/docs/records/d").json() == {"id": "d", "title": "later"}


def test_a_client_clock_a_year_ahead_does_not_win_later_writes(client: httpx.Client) -> None:
    define(client, "docs", "id")
    year_ms = 365 * 24 * 3600 * 1000
    ahead = transaction(
        mutation("docs", "insert", "d", {"title": "from the future"}, stamp=stamp(year_ms))
    )
    push(client, ahead, client_id="skewed")
    assert client.patch("/v1/collections/docs/records/d", json={"title": "now"}).status_code == 200
    (result,) = results(
        push(client, transaction(mutation("docs", "update", "d", {"title": "next"})), client_id="b")
    )
    assert result["status"] == "applied"
    assert client.get("/v1/collections/docs/records/d").json() == {"id": "d", "title": "next"}


def test_a_delete_beats_a_concurrent_update_in_either_order(client: httpx.Client) -> None:
    define(client, "docs", "id")
    for key, first, second in [("x", "delete", "update"), ("y", "update", "delete")]:
        push(client, transaction(mutation("docs", "insert", key, {"v": 0}, stamp=stamp(-9000))))
        writes = {
            "delete": mutation("docs", "delete", key, stamp=stamp(-3000)),
            "update": mutation("docs", "update", key, {"v": 1}, stamp=stamp(-2000)),
        }
        push(client, transaction(writes[first]), client_id="a")
        push(client, transaction(writes[second]), client_id="b")
        assert client.get(f"/v1/collections/docs/records/{key}").status_code == 404


def test_a_bad_mutation_is_rejected_alone_with_its_reason(client: httpx.Client) -> None:
    define(client, "users", "id, &email")
    define(client, "posts", "++id, title")
    push(client, transaction(mutation("users", "insert", "ann", {"email": "a@x"})))
    answer = push(
        client,
        transaction(
            mutation("users", "insert", "bob", {"email": "b@x"}),
            mutation("users", "insert", "eve", {"email": "a@x"}),
            mutation("users", "insert", {"an": "object"}, {"email": "c@x"}),
            mutation("nowhere", "insert", "k", {"a": 1}),
            mutation("posts", "insert", 5, {"title": "numbered"}),
            mutation("users", "insert", "nul", {"name": "a\u0000b"}),
            mutation("users", "frobnicate", "ann", {}),
            mutation("users", "update", "ann", {"name": "Ann"}),
        ),
    )
    statuses = [result["status"] for result in results(answer)]
    assert statuses == [
        "applied",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "applied",
    ]
    errors = [result.get("error", {}).get("message", "") for result in results(answer)]
    assert "unique index '&email'" in errors[1]
    assert results(answer)[1]["record"] is None
    assert "string or a number" in errors[2]
    assert "does not exist" in errors[3]
    assert "record" not in results(answer)[3]
    assert "++id" in errors[4]
    assert "@id" in errors[4]
    assert "NUL" in errors[5]
    assert "op must be" in errors[6]
    # the server's copy as the push leaves it, later mutations of the push included
    ann = {"id": "ann", "email": "a@x", "name": "Ann"}
    assert results(answer)[6]["record"] == ann
    assert client.get("/v1/collections/users/records/ann").json() == ann
    assert client.get("/v1/collections/users/records/bob").status_code == 200


def test_a_retry_of_a_server_stamped_push_does_not_undo_a_later_write(
    client: httpx.Client,
) -> None:
    define(client, "docs", "id")
    first = transaction(
        {"collection": "docs", "op": "insert", "key": "d", "fields": {"title": "first"}}
    )
    push(client, first)
    later = client.patch("/v1/collections/docs/records/d", json={"title": "later"})
    assert later.status_code == 200
    assert push(client, first)["transactions"][0]["duplicate"] is True
    assert client.get("/v1/collections/docs/records/d").json() == {"id": "d", "title": "later"}


def test_transactions_of_a_push_apply_in_the_order_they_were_sent(client: httpx.Client) -> None:
    define(client, "docs", "id")
    writes = [
        transaction({"collection": "docs", "op": "put", "key": "d", "fields": {"n": n}})
        for n in range(30)
    ]
    push(client, *writes)
    assert client.get("/v1/collections/docs/records/d").json() == {"id": "d", "n": 29}


def test_concurrent_pushes_each_get_their_own_answers(
    data_server: ServedApp, tenant: ProvisionedTenant, client: httpx.Client
) -> None:
    define(client, "notes", "id")
    shared = transaction(mutation("notes", "insert", "shared", {"by": "c0"}), txid="tx-shared")

    def body(number: int) -> dict[str, object]:
        own = transaction(
            mutation("notes", "insert", f"n{number}", {"by": f"c{number}"}),
            mutation("nowhere", "insert", "x", {}),
        )
        # every client sends the shared txid too: whichever is applied first owns it
        return {"client": f"c{number}", "transactions": [shared, own]}

    async def send_all() -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {tenant.api_key}"}
        async with httpx.AsyncClient(base_url=data_server.url, headers=headers) as pushing:
            answers = await asyncio.gather(
                *(pushing.post("/v1/sync/push", json=body(n)) for n in range(20))
            )
        assert all(answer.status_code == 200 for answer in answers)
        return [answer.json() for answer in answers]

    answers = asyncio.run(send_all())
    for answer in answers:
        _shared, own = answer["transactions"]
        assert [result["status"] for result in own["results"]] == ["applied", "rejected"]
    owners = {
        n
        for n, answer in enumerate(answers)
        if answer["transactions"][0]["results"][0]["status"] != "rejected"
    }
    assert len(owners) == 1  # exactly one client owns the shared txid; the others are refused
    listed = client.get("/v1/collections/notes/records", params={"limit": 100}).json()
    assert len(listed) == 21


def test_a_key_the_database_cannot_keep_exactly_is_refused_and_pushes_go_on(
    client: httpx.Client,
) -> None:
    define(client, "things", "id")
    answer = push(
        client,
        transaction(
            mutation("things", "put", 7.260524722864092e73, {}),
            mutation("things", "put", "good", {"n": 1}),
        ),
    )
    refused, applied = results(answer)
    assert refused["status"] == "rejected"
    assert "2^53" in refused["error"]["message"]
    assert applied["status"] == "applied"
    (next_one,) = results(push(client, transaction(mutation("things", "put", "next", {}))))
    assert next_one["status"] == "applied"
