"""Batches at once never deadlock or lose a point: new vehicles and the same keys arriving in
different orders, duplicates racing each other."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx

from tests.data.fleet.tracking import point, recent, send
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from webhost.db.urls import PostgresURL


def shuffled(points: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    copy = list(points)
    random.Random(seed).shuffle(copy)
    return copy


def test_overlapping_batches_in_different_orders_store_each_point_once(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    start = recent(minutes_ago=60)
    # twelve new vehicles, forty points each; every batch holds all of them, in its own order
    points = [
        point(f"bus-{vehicle:02d}", start + timedelta(seconds=n), latitude=50 + vehicle / 100)
        for vehicle in range(12)
        for n in range(40)
    ]
    batches = [shuffled(points, seed)[:300] for seed in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda batch: send(client, batch), batches))
    assert all(answer["rejected"] == [] for answer in answers)
    distinct = {(p["vehicle"], p["time"]) for batch in batches for p in batch}
    assert sum(answer["accepted"] for answer in answers) == len(distinct)
    assert sum(a["accepted"] + a["duplicates"] for a in answers) == 8 * 300
    stored = query(
        dataplane_database, f'SELECT count(*) FROM "{tenant.tenant.name}".fleet_positions'
    )
    assert stored == [(len(distinct),)]
    vehicles = query(
        dataplane_database, f'SELECT count(*) FROM "{tenant.tenant.name}".fleet_vehicles'
    )
    assert vehicles == [(12,)]
