"""kill -9 of a data-plane process in the middle of writing and compacting: every update a
client was shown (broadcast only once stored) is there after the restart."""

from __future__ import annotations

import random
import threading

import pytest
from websockets.exceptions import ConnectionClosed

from tests.data.yjs.peers import WirePeer
from tests.support.database import ProvisionedTenant
from tests.support.dataplanes import dedicated_plane
from tests.support.polling import wait_until
from webhost.db.urls import PostgresURL

pytestmark = pytest.mark.slow


def keep_writing(writer: WirePeer, cycle: int, stop: threading.Event) -> None:
    number = 0
    while not stop.is_set():
        try:
            writer.insert(f"{cycle}.{number};")
        except (ConnectionClosed, OSError):
            return
        number += 1
        if number % 20 == 0:
            stop.wait(0.005)


def test_no_update_a_client_was_shown_is_lost_across_kill_minus_nine(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    chance = random.Random(4_2024)
    shown = ""
    for cycle in range(4):
        # compactions all the time, so kills land in them
        with dedicated_plane(dataplane_database, tenant, yjs_compact_after="5") as port:
            url = f"ws://127.0.0.1:{port}"
            observer = WirePeer.connect(url, "crash", tenant.api_key).wait_synced()
            # what the previous run showed its clients survived its kill -9
            assert observer.text.startswith(shown)
            writer = WirePeer.connect(url, "crash", tenant.api_key, doc=None).wait_synced()
            stop = threading.Event()
            typing = threading.Thread(target=keep_writing, args=(writer, cycle, stop))
            typing.start()
            marker = f"{cycle}.30;"
            wait_until(lambda p=observer, m=marker: m in p.pump().text, message="writing")
            stop.wait(chance.uniform(0.05, 0.6))
            observer.pump()
            shown = observer.text
        # the process is gone (SIGKILL); nothing it showed may be missing after a restart
        stop.set()
        typing.join()
        writer.close()
        observer.close()
    with (
        dedicated_plane(dataplane_database, tenant) as port,
        WirePeer.connect(f"ws://127.0.0.1:{port}", "crash", tenant.api_key).wait_synced() as reader,
    ):
        assert reader.text.startswith(shown)
        assert shown.count(";") > 4 * 30
