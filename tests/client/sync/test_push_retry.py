"""A push whose answer is lost is sent again with the same txids, to another server process
too, and the server applies it once."""

from __future__ import annotations

import asyncio

from tests.client.conftest import Connect
from tests.client.sync.helpers import SYNC_SECONDS, server_records, shows
from tests.data.yjs.planes import StartPlane
from tests.support.polling import eventually
from tests.support.proxy import FaultyProxy, Mode
from webhost.client import ApiError


def test_a_push_whose_answer_was_lost_is_applied_once(
    connect: Connect, start_plane: StartPlane
) -> None:
    first_plane = start_plane()
    proxy = FaultyProxy(first_plane.served.port).start()

    async def scenario() -> None:
        async with connect() as admin:
            await admin.rest.define_collection("orders", "@id, total")
            async with connect(api_url=proxy.url, sync_url=proxy.ws_url) as device:
                orders = await device.replicate("orders")
                await asyncio.wait_for(device.synced(), SYNC_SECONDS)

                proxy.switch(Mode.CUT_ANSWERS)
                key = await orders.insert({"total": 10})
                await orders.update(key, {"total": 12})

                async def stored() -> bool:
                    try:
                        order = await admin.rest.records("orders").get(key)
                    except ApiError:
                        return False
                    return bool(order["total"] == 12)

                await eventually(stored, message="the pushed order on the server")
                assert proxy.cut_answers >= 1
                assert device.status.pending == 2  # the client never heard back
                applied = (await admin.rest.sync_position())["revision"]

                # the plane that took the push goes away; another serves the same database
                first_plane.stop()
                second_plane = start_plane()
                proxy.switch(Mode.PASS, upstream_port=second_plane.served.port)
                await asyncio.wait_for(device.synced(), SYNC_SECONDS)

                assert device.status.pending == 0
                assert device.status.duplicate_transactions >= 1
                assert await server_records(admin, "orders") == [{"id": key, "total": 12}]
                assert await orders.all() == [{"id": key, "total": 12}]
                # the pushes sent again changed nothing: no revision since the first one
                assert (await admin.rest.sync_position())["revision"] == applied

                # the live socket came back too: a write through the plane it reached (each
                # plane announces its own commits) arrives unasked
                async def live() -> bool:
                    return device.status.live

                await eventually(live, message="the sync socket reconnected")
                async with connect(api_url=second_plane.served.url, sync=False) as writer:
                    other = await writer.rest.records("orders").create({"total": 3})
                await shows(orders, [{"id": key, "total": 12}, other])

    try:
        asyncio.run(scenario())
    finally:
        proxy.stop()
