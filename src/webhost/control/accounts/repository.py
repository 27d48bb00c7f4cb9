from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts.models import (
    Account,
    AuthToken,
    LoginFailures,
    MemberRole,
    Membership,
    Organization,
    TokenKind,
)

# stale failure records deleted per login attempt: cleaning never costs a login much
FORGET_BATCH = 100


async def find_account_by_email(session: AsyncSession, email: str) -> Account | None:
    account: Account | None = await session.scalar(select(Account).where(Account.email == email))
    return account


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def add_account(session: AsyncSession, account: Account) -> Account:
    session.add(account)
    await session.flush()
    return account


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    found = await session.scalar(select(func.count()).where(Organization.slug == slug))
    return bool(found)


async def add_organization(
    session: AsyncSession, organization: Organization, owner: Account
) -> Organization:
    session.add(organization)
    await session.flush()
    session.add(
        Membership(organization_id=organization.id, account_id=owner.id, role=MemberRole.OWNER)
    )
    await session.flush()
    return organization


async def organizations_of(session: AsyncSession, account_id: uuid.UUID) -> list[Organization]:
    statement = (
        select(Organization)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.account_id == account_id)
        .order_by(Organization.created_at)
    )
    return list((await session.scalars(statement)).all())


async def get_organization(
    session: AsyncSession, organization_id: uuid.UUID
) -> Organization | None:
    return await session.get(Organization, organization_id)


async def membership(
    session: AsyncSession, organization_id: uuid.UUID, account_id: uuid.UUID
) -> Membership | None:
    return await session.get(Membership, (organization_id, account_id))


async def add_token(session: AsyncSession, token: AuthToken) -> AuthToken:
    session.add(token)
    await session.flush()
    return token


async def find_live_token(
    session: AsyncSession, digest: str, kind: TokenKind, now: datetime, *, for_update: bool = False
) -> AuthToken | None:
    statement = select(AuthToken).where(
        AuthToken.token_digest == digest,
        AuthToken.kind == kind,
        AuthToken.expires_at > now,
        AuthToken.revoked_at.is_(None),
        AuthToken.used_at.is_(None),
    )
    if for_update:
        statement = statement.with_for_update()
    token: AuthToken | None = await session.scalar(statement)
    return token


async def revoke_token(session: AsyncSession, digest: str, now: datetime) -> None:
    await session.execute(
        update(AuthToken)
        .where(AuthToken.token_digest == digest, AuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def find_operator(session: AsyncSession) -> Account | None:
    account: Account | None = await session.scalar(
        select(Account).where(Account.is_operator.is_(True)).order_by(Account.created_at).limit(1)
    )
    return account


async def database_clock(session: AsyncSession) -> datetime:
    """The database's clock now (not at transaction start), which every process shares."""
    clock = func.clock_timestamp(type_=DateTime(timezone=True))
    return (await session.execute(select(clock))).scalar_one()


async def forget_login_failures(
    session: AsyncSession, now: datetime, *, keep: Sequence[tuple[str, str]]
) -> None:
    """Delete a batch of records past their ``forget_at``, other than ``keep``, skipping (never
    waiting for) rows other transactions hold."""
    stale = (
        select(LoginFailures.scope, LoginFailures.subject)
        .where(
            LoginFailures.forget_at <= now,
            tuple_(LoginFailures.scope, LoginFailures.subject).not_in(keep),
        )
        .limit(FORGET_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(LoginFailures)
        .where(tuple_(LoginFailures.scope, LoginFailures.subject).in_(stale))
        .execution_options(synchronize_session=False)
    )


async def lock_login_failures(
    session: AsyncSession, subjects: Sequence[tuple[str, str]]
) -> list[LoginFailures]:
    """The failure records of ``(scope, subject)`` pairs, created empty when missing and locked
    until the transaction ends, so concurrent attempts are counted one after another."""
    ordered = sorted(set(subjects))  # one lock order everywhere: no deadlocks
    await session.execute(
        insert(LoginFailures)
        .values(
            [
                {
                    "scope": scope,
                    "subject": subject,
                    "failures": 0,
                    "last_failure_at": func.now(),
                    "forget_at": func.now(),
                }
                for scope, subject in ordered
            ]
        )
        .on_conflict_do_nothing()
    )
    records = await session.scalars(
        select(LoginFailures)
        .where(tuple_(LoginFailures.scope, LoginFailures.subject).in_(ordered))
        .order_by(LoginFailures.scope, LoginFailures.subject)
        .with_for_update()
    )
    return list(records)


async def clear_login_failures(session: AsyncSession, scope: str, subject: str) -> None:
    await session.execute(
        delete(LoginFailures).where(LoginFailures.scope == scope, LoginFailures.subject == subject)
    )


async def forgive_login_failure(session: AsyncSession, scope: str, subject: str) -> None:
    """Take back one counted failure (an attempt counted up front that did not fail)."""
    await session.execute(
        update(LoginFailures)
        .where(LoginFailures.scope == scope, LoginFailures.subject == subject)
        .values(failures=func.greatest(LoginFailures.failures - 1, 0))
    )
