"""kill -9 of a data plane while trackers send one point a request and batches go in beside
them: every acknowledged point is stored after the restart, and what was in flight, sent
again, is stored exactly once."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from tests.data.fleet.tracking import point, positions, recent, rfc3339
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.dataplanes import dedicated_plane
from tests.support.polling import wait_until
from webhost.db.urls import PostgresURL

pytestmark = pytest.mark.slow

START = recent(minutes_ago=600)
Key = tuple[str, str]  # vehicle, device time as sent


class Sender:
    """Sends until its plane dies: OsmAnd points of one phone, or batches of one bus fleet.
    Remembers the points answered and the request in flight."""

    def __init__(self, url: str, api_key: str, name: str, batch: int, cycle: int) -> None:
        self.client = api_client(url, api_key)  # its own: the plane dies while it sends
        self.api_key = api_key
        self.name = name
        self.batch = batch  # 0: one OsmAnd point a request
        self.cycle = cycle
        self.acknowledged: set[Key] = set()
        self.in_flight: list[dict[str, Any]] | None = None
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with self.client:
            number = 0
            while True:
                points = self._points(number)
                self.in_flight = points
                try:
                    answered = send_points(self.client, self.api_key, points, self.batch)
                except httpx.HTTPError:
                    return
                if not answered:
                    return
                self.acknowledged |= keys_of(points)
                self.in_flight = None
                number += 1

    def _points(self, number: int) -> list[dict[str, Any]]:
        first = START + timedelta(hours=self.cycle, seconds=number * max(self.batch, 1))
        return [
            point(f"{self.name}-{n % 5}", first + timedelta(seconds=n), latitude=50 + n / 1e4)
            for n in range(max(self.batch, 1))
        ]


def answered_enough(senders: list[Sender]) -> bool:
    return all(len(sender.acknowledged) >= 10 for sender in senders)


def keys_of(points: list[dict[str, Any]]) -> set[Key]:
    return {(p["vehicle"], p["time"]) for p in points}


def send_points(
    client: httpx.Client, api_key: str, points: list[dict[str, Any]], batch: int
) -> bool:
    """Whether the plane answered that the points are stored (new or already there)."""
    if batch == 0:
        (only,) = points
        answer = client.get(
            f"/v1/fleet/osmand/{api_key}",
            params={
                "id": only["vehicle"],
                "lat": str(only["latitude"]),
                "lon": str(only["longitude"]),
                "timestamp": only["time"],
            },
        )
        return answer.status_code == 200
    answer = client.post("/v1/fleet/positions", json=points)
    if answer.status_code != 200:
        return False
    counts = answer.json()
    return bool(counts["rejected"] == [] and counts["accepted"] + counts["duplicates"] == batch)


def test_positions_survive_kill_minus_nine_and_are_stored_once(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    chance = random.Random(12_2026)
    acknowledged: set[Key] = set()
    in_doubt: list[tuple[list[dict[str, Any]], int]] = []
    resent_after_kill = 0
    for cycle in range(3):
        with dedicated_plane(dataplane_database, tenant) as port:
            url = f"http://127.0.0.1:{port}"
            with api_client(url, tenant.api_key) as client:
                for points, batch in in_doubt:  # sent again, as trackers retry
                    assert send_points(client, tenant.api_key, points, batch)
                    acknowledged |= keys_of(points)
                    resent_after_kill += 1
            in_doubt = []
            senders = [
                *(Sender(url, tenant.api_key, f"phone{n}", 0, cycle) for n in range(8)),
                Sender(url, tenant.api_key, "bus", 300, cycle),  # copied
                Sender(url, tenant.api_key, "van", 40, cycle),  # one statement
            ]
            for sender in senders:
                sender.thread.start()
            wait_until(partial(answered_enough, senders), message="answers")
            threading.Event().wait(chance.uniform(0.05, 0.4))
        # killed (SIGKILL) on leaving the block; the senders see their connections fail
        for sender in senders:
            sender.thread.join(timeout=30)
            acknowledged |= sender.acknowledged
            if sender.in_flight is not None:
                in_doubt.append((sender.in_flight, sender.batch))
    with (
        dedicated_plane(dataplane_database, tenant) as port,
        api_client(f"http://127.0.0.1:{port}", tenant.api_key) as client,
    ):
        for points, batch in in_doubt:
            assert send_points(client, tenant.api_key, points, batch)
            acknowledged |= keys_of(points)
            resent_after_kill += 1
    stored = positions(dataplane_database, tenant)
    stored_keys = [(row["vehicle"], rfc3339(row["device_time"])) for row in stored]
    assert len(stored_keys) == len(set(stored_keys))  # each once
    assert set(stored_keys) == acknowledged
    assert resent_after_kill >= 3  # the kills landed while requests were in flight
