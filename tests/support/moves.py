"""Driving moves in tests: a writer that keeps adding records through a move, and a local
provider whose copies of chosen deployments come out wrong, so a move's verification has a
real difference to find (one record's content changed on the target after the copy)."""

from __future__ import annotations

import threading
import time
import uuid
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import text

from tests.support.clients import api_client
from tests.support.factories import Customer
from tests.support.polling import wait_until
from webhost.control.providers.base import DeploymentSpec
from webhost.control.providers.local.provider import LocalProvider
from webhost.data.tenancy.transfer import CopyReport
from webhost.db.admin import quote_ident


class CorruptingLocalProvider(LocalProvider):
    """``corrupt``: the deployments whose next copy changes one record of ``collection``."""

    corrupt: set[uuid.UUID] = set()
    collection = "trips"

    async def copy_tenant(self, source: DeploymentSpec, target: DeploymentSpec) -> CopyReport:
        report = await super().copy_tenant(source, target)
        if target.id in self.corrupt:
            table = f"{quote_ident(target.tenant_name)}.{quote_ident('c_' + self.collection)}"
            async with self.transaction(self.database_for(target)) as connection:
                changed = await connection.execute(
                    text(
                        f"UPDATE {table} SET data = data || '{{\"tampered\": true}}' "
                        f"WHERE pk = (SELECT min(pk) FROM {table})"
                    )
                )
                assert changed.rowcount == 1
        return report


class RestWriter:
    """Adds records as fast as the deployment takes them; a 503 is sent again, as the
    Retry-After header asks (shortened), and only a 201 counts as acknowledged."""

    def __init__(self, api_url: str, key: str) -> None:
        self.client = api_client(api_url, key)
        self.acknowledged: list[int] = []
        self.refused: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            while not self._stop.is_set():
                try:
                    response = self.client.post(
                        "/v1/collections/trips/records", json={"vehicle": "TRK-1", "n": number}
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)
                    continue
                if response.status_code == 201:
                    self.acknowledged.append(response.json()["id"])
                    break
                self.refused.append(response.status_code)
                assert response.status_code == 503, response.text
                assert response.headers.get("Retry-After"), response.headers
                time.sleep(0.1)

    def wait_for(self, more: int) -> None:
        wanted = len(self.acknowledged) + more
        wait_until(lambda: len(self.acknowledged) >= wanted, timeout=60, message="writes taken")

    def __enter__(self) -> RestWriter:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self.client.close()


def all_record_ids(api_url: str, key: str) -> set[int]:
    found: set[int] = set()
    with api_client(api_url, key) as data:
        offset = 0
        while True:
            response = data.get(
                "/v1/collections/trips/records", params={"limit": 1000, "offset": offset}
            )
            assert response.status_code == 200, response.text
            page = response.json()
            found.update(record["id"] for record in page)
            if len(page) < 1000:
                return found
            offset += 1000


def move_to(customer: Customer, deployment_id: str, plan: str) -> dict[str, Any]:
    response = customer.client.post(f"/api/deployments/{deployment_id}/plan", json={"plan": plan})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "migrating"
    return body


def wait_moved(customer: Customer, deployment_id: str, mode: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = customer.client.get(f"/api/deployments/{deployment_id}").json()
        return body if body["status"] == "active" and body["mode"] == mode else None

    moved: dict[str, Any] = wait_until(done, timeout=120, interval=0.2, message=f"moved {mode}")
    return moved
