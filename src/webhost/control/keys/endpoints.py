from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from webhost.control.dependencies import AccountDep, OrganizationDep, PlatformDep, SessionDep
from webhost.control.keys import service
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
    """The full key is in this response only; WebHost keeps just its digest."""
    key, full_key = await service.create_key(
        session, platform.provider, organization=organization, created_by=account, name=body.name
    )
    return CreatedKeyOut(**KeyOut.model_validate(key).model_dump(), key=full_key)


@router.get("", response_model=list[KeyOut])
async def list_keys(organization: OrganizationDep, session: SessionDep) -> list[KeyOut]:
    return [KeyOut.model_validate(key) for key in await service.list_keys(session, organization)]


@router.delete("/{key_id}", response_model=KeyOut)
async def revoke_key(
    key_id: uuid.UUID, organization: OrganizationDep, session: SessionDep, platform: PlatformDep
) -> KeyOut:
    """Revoked at once: the next request with the key gets 401, open sockets are closed."""
    key = await service.revoke_key(
        session, platform.provider, organization=organization, key_id=key_id
    )
    return KeyOut.model_validate(key)
