from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from webhost.control.dependencies import AccountDep, OrganizationDep, PlatformDep, SessionDep
from webhost.control.keys import device_keys, service
from webhost.control.keys.schemas import CreatedKeyOut, KeyIn, KeyOut

router = APIRouter(prefix="/api/keys", tags=["api keys"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CreatedKeyOut)
async def create_key(
    body: KeyIn,
    account: AccountDep,
    organization: OrganizationDep,
    session: SessionDep,
    platform: PlatformDep,
) -> CreatedKeyOut:
    """The full key is in this response only; WebHost keeps just its digest. The
    organization's first key also brings its device key (see `POST /api/keys/device`)."""
    key, full_key = await service.create_key(
        session,
        platform.key_courier,
        platform.secret_box,
        organization=organization,
        created_by=account,
        name=body.name,
    )
    return CreatedKeyOut(**KeyOut.model_validate(key).model_dump(), key=full_key)


@router.get("", response_model=list[KeyOut])
async def list_keys(organization: OrganizationDep, session: SessionDep) -> list[KeyOut]:
    return [KeyOut.model_validate(key) for key in await service.list_keys(session, organization)]


@router.post("/device", status_code=status.HTTP_201_CREATED, response_model=KeyOut)
async def new_device_key(
    account: AccountDep, organization: OrganizationDep, session: SessionDep, platform: PlatformDep
) -> KeyOut:
    """Replace the device key (scope `ingest`, the key in each deployment's `osmand_url`):
    the old one is revoked at once, so every phone needs the new URL. 409 while the
    organization has no active API key."""
    key = await device_keys.replace_device_key(
        session,
        platform.key_courier,
        platform.secret_box,
        organization=organization,
        created_by=account,
    )
    return KeyOut.model_validate(key)


@router.delete("/{key_id}", response_model=KeyOut)
async def revoke_key(
    key_id: uuid.UUID, organization: OrganizationDep, session: SessionDep, platform: PlatformDep
) -> KeyOut:
    """Revoked at once: the next request with the key gets 401, open sockets are closed."""
    key = await service.revoke_key(
        session, platform.key_courier, organization=organization, key_id=key_id
    )
    return KeyOut.model_validate(key)
