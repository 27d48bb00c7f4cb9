"""Routes of fleet webhooks: register endpoints, read the delivery log, replay, test."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from webhost.data.fleet import webhooks_service as service
from webhost.data.fleet.query_schemas import RowId
from webhost.data.fleet.webhook_schemas import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)
from webhost.data.tenancy.dependencies import CallerDep, PlaneDep, TenantConnectionDep

router = APIRouter(prefix="/v1/fleet/webhooks", tags=["fleet"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="Register a webhook; the response holds its signing secret, shown only once",
)
async def create_webhook(
    body: WebhookCreate, plane: PlaneDep, caller: CallerDep, connection: TenantConnectionDep
) -> WebhookCreated:
    return WebhookCreated.model_validate(await service.create(connection, body))


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(caller: CallerDep, connection: TenantConnectionDep) -> list[WebhookOut]:
    return [WebhookOut.model_validate(w) for w in await service.list_all(connection)]


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(
    webhook_id: RowId, caller: CallerDep, connection: TenantConnectionDep
) -> WebhookOut:
    return WebhookOut.model_validate(await service.require(connection, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def patch_webhook(
    webhook_id: RowId,
    body: WebhookPatch,
    plane: PlaneDep,
    caller: CallerDep,
    connection: TenantConnectionDep,
) -> WebhookOut:
    patched = WebhookOut.model_validate(await service.patch(connection, webhook_id, body))
    # re-enabled: its pending deliveries go now
    plane.after_commit(connection, lambda: plane.webhooks.wake(caller.tenant))
    return patched


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: RowId, caller: CallerDep, connection: TenantConnectionDep
) -> Response:
    await service.delete(connection, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="The delivery log, newest first",
)
async def list_deliveries(
    webhook_id: RowId,
    caller: CallerDep,
    connection: TenantConnectionDep,
    status_filter: Annotated[str | None, Query(alias="status")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DeliveryOut]:
    found = await service.deliveries(connection, webhook_id, status_filter, limit, offset)
    return [DeliveryOut.model_validate(delivery) for delivery in found]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_201_CREATED,
    response_model=DeliveryOut,
    summary="Send a delivery's payload again, as a new delivery",
)
async def replay_delivery(
    webhook_id: RowId,
    delivery_id: RowId,
    plane: PlaneDep,
    caller: CallerDep,
    connection: TenantConnectionDep,
) -> DeliveryOut:
    again = DeliveryOut.model_validate(await service.replay(connection, webhook_id, delivery_id))
    plane.after_commit(connection, lambda: plane.webhooks.wake(caller.tenant))
    return again


@router.post(
    "/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a signed 'ping' delivery to this webhook",
)
async def test_webhook(
    webhook_id: RowId, plane: PlaneDep, caller: CallerDep, connection: TenantConnectionDep
) -> Response:
    await service.send_test(connection, webhook_id)
    plane.after_commit(connection, lambda: plane.webhooks.wake(caller.tenant))
    return Response(status_code=status.HTTP_202_ACCEPTED)
