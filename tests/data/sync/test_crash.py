"""kill -9 of a data plane while clients push: every acknowledged push is there after the
restart, and a push that was in flight, sent again with its txid, is applied exactly once."""

from __future__ import annotations

import random
import threading
from typing import Any

import httpx
import pytest

from tests.data.collections.records import define
from tests.data.sync.syncing import mutation, transaction
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.dataplanes import dedicated_plane
from tests.support.inspect import query
from tests.support.polling import wait_until
from webhost.db.urls import PostgresURL

pytestmark = pytest.mark.slow


class Pusher:
    """Pushes transactions of new records until its plane dies; remembers what was answered."""

    def __init__(self, url: str, api_key: str, cycle: int) -> None:
        # its own client: the plane is killed while this one is still sending
        self.client = api_client(url, api_key)
        self.cycle = cycle
        self.acknowledged: list[dict[str, Any]] = []
        self.in_flight: dict[str, Any] | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with self.client:
            self._push_until_stopped()

    def _push_until_stopped(self) -> None:
        number = 0
        while not self.stop.is_set():
            keys = [f"{self.cycle}.{number}.{n}" for n in range(20)]
            sent = transaction(*[mutation("items", "insert", key, {"k": key}) for key in keys])
            self.in_flight = sent
            try:
                answer = self.client.post(
                    "/v1/sync/push", json={"client": "crash-test", "transactions": [sent]}
                )
            except httpx.HTTPError:
                return
            if answer.status_code != 200:
                return
            self.acknowledged.append(sent)
            self.in_flight = None
            number += 1


def push_again(client: httpx.Client, sent: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/v1/sync/push", json={"client": "crash-test", "transactions": [sent]})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["transactions"][0]
    return result


def test_pushes_survive_kill_minus_nine_and_apply_once(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    chance = random.Random(7_2026)
    sent: list[dict[str, Any]] = []
    in_doubt: dict[str, Any] | None = None
    retried_after_kill = 0
    for cycle in range(4):
        with (
            dedicated_plane(dataplane_database, tenant) as port,
            api_client(f"http://127.0.0.1:{port}", tenant.api_key) as client,
        ):
            if cycle == 0:
                define(client, "items", "id")
            if in_doubt is not None:
                # the push the kill interrupted, sent again as a client retries it
                retried = push_again(client, in_doubt)
                # applied now if the kill came before its commit, else a duplicate
                if not retried["duplicate"]:
                    assert {result["status"] for result in retried["results"]} == {"applied"}
                sent.append(in_doubt)
                retried_after_kill += 1
            pusher = Pusher(f"http://127.0.0.1:{port}", tenant.api_key, cycle)
            pusher.thread.start()
            wait_until(lambda p=pusher: len(p.acknowledged) >= 3, message="pushes answered")
            pusher.stop.wait(chance.uniform(0.05, 0.5))
        # killed (SIGKILL) on leaving the block; the pusher sees its connection fail
        pusher.thread.join(timeout=30)
        sent += pusher.acknowledged
        in_doubt = pusher.in_flight
    with (
        dedicated_plane(dataplane_database, tenant) as port,
        api_client(f"http://127.0.0.1:{port}", tenant.api_key) as client,
    ):
        if in_doubt is not None:
            push_again(client, in_doubt)
            sent.append(in_doubt)
            retried_after_kill += 1
        # every acknowledged push is stored, and is not applied again when sent once more
        for each in chance.sample(sent, 5):
            assert push_again(client, each)["duplicate"] is True
        expected = {m["key"] for each in sent for m in each["mutations"]}
        stored: set[str] = set()
        offset = 0
        while True:
            page = client.get(
                "/v1/collections/items/records", params={"limit": 1000, "offset": offset}
            ).json()
            stored |= {record["id"] for record in page}
            if len(page) < 1000:
                break
            offset += 1000
        assert stored == expected
    txids = query(dataplane_database, f'SELECT txid FROM "{tenant.tenant.name}"._sync_transactions')
    assert sorted(row[0] for row in txids) == sorted(each["txid"] for each in sent)
    assert len(sent) > 4 * 3
    assert retried_after_kill >= 2  # the kills landed while a push was in flight
