"""Accounts, organizations and login sessions."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts import repository
from webhost.control.accounts.login_throttle import LoginThrottle
from webhost.control.accounts.models import Account, AuthToken, Organization, TokenKind
from webhost.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceBusy, Unauthorized
from webhost.security.passwords import Passwords
from webhost.security.tokens import digest, random_string

SESSION_LIFETIME = timedelta(days=30)
ONE_TIME_LOGIN_LIFETIME = timedelta(minutes=15)
OPERATOR_EMAIL = "operator@webhost.local"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_account(
    session: AsyncSession, passwords: Passwords, *, email: str, name: str, password: str
) -> Account:
    """A new customer account; an email belongs to one account only."""
    email = normalize_email(email)
    if await repository.find_account_by_email(session, email) is not None:
        raise Conflict(f"an account with email {email} already exists; log in instead")
    return await repository.add_account(
        session, Account(email=email, name=name, password_hash=await passwords.hash(password))
    )


async def create_organization(session: AsyncSession, *, name: str, owner: Account) -> Organization:
    """A new organization with a free slug made from its name, ``owner`` its owner member."""
    return await repository.add_organization(
        session, Organization(name=name, slug=await _free_slug(session, name)), owner=owner
    )


async def _free_slug(session: AsyncSession, name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40] or "org"
    slug = base
    while await repository.slug_taken(session, slug):
        slug = f"{base}-{random_string(6).lower()}"
    return slug


async def login(
    session: AsyncSession,
    passwords: Passwords,
    throttle: LoginThrottle,
    email: str,
    password: str,
    *,
    address: str,
) -> IssuedToken:
    """A session for the right password; throttled attempts are refused before any argon2."""
    attempt = await throttle.begin(normalize_email(email), address)
    try:
        account = await _password_owner(session, passwords, attempt.email, password)
    except ServiceBusy:
        await throttle.abandoned(attempt)
        raise
    if account is None:
        raise Unauthorized("invalid email or password")
    await throttle.succeeded(attempt)
    account.last_login_at = datetime.now(UTC)
    return await issue_session(session, account)


async def _password_owner(
    session: AsyncSession, passwords: Passwords, email: str, password: str
) -> Account | None:
    """The account this email and password open, or None.

    How many argon2 checks a failure costs depends on the password alone, never on whether the
    account exists or how it was created, so timing tells an attacker nothing.
    """
    account = await repository.find_account_by_email(session, email)
    known_hash = account.password_hash if account is not None else None
    matched = await passwords.verify(known_hash, password)
    if matched and account is not None and known_hash is not None:
        if account.password_maybe_stripped or passwords.needs_rehash(known_hash):
            await _store_password(passwords, account, password)
        return account
    stripped = password.strip()
    if stripped == password:
        return None
    # early signups stored passwords stripped; other accounts pay the same second check
    legacy_hash = known_hash if account is not None and account.password_maybe_stripped else None
    if await passwords.verify(legacy_hash, stripped) and account is not None:
        await _store_password(passwords, account, password)
        return account
    return None


async def _store_password(passwords: Passwords, account: Account, password: str) -> None:
    account.password_hash = await passwords.hash(password)
    account.password_maybe_stripped = False


async def issue_session(session: AsyncSession, account: Account) -> IssuedToken:
    return await _issue(session, account, TokenKind.SESSION, "whs_sess_", SESSION_LIFETIME)


async def issue_one_time_login(session: AsyncSession, account: Account) -> IssuedToken:
    return await _issue(
        session, account, TokenKind.ONE_TIME_LOGIN, "whs_once_", ONE_TIME_LOGIN_LIFETIME
    )


async def _issue(
    session: AsyncSession, account: Account, kind: TokenKind, prefix: str, lifetime: timedelta
) -> IssuedToken:
    token = prefix + random_string(40)
    expires_at = datetime.now(UTC) + lifetime
    await repository.add_token(
        session,
        AuthToken(
            account_id=account.id, kind=kind, token_digest=digest(token), expires_at=expires_at
        ),
    )
    return IssuedToken(token, expires_at)


async def authenticate_session(session: AsyncSession, token: str) -> Account:
    found = await repository.find_live_token(
        session, digest(token), TokenKind.SESSION, datetime.now(UTC)
    )
    account = await repository.get_account(session, found.account_id) if found else None
    if account is None:
        raise Unauthorized("session expired or invalid: log in again")
    return account


async def logout(session: AsyncSession, token: str) -> None:
    await repository.revoke_token(session, digest(token), datetime.now(UTC))


async def redeem_one_time_login(session: AsyncSession, token: str) -> IssuedToken:
    """Trade a one-time login link for a session; the link is dead afterwards."""
    now = datetime.now(UTC)
    found = await repository.find_live_token(
        session, digest(token), TokenKind.ONE_TIME_LOGIN, now, for_update=True
    )
    account = await repository.get_account(session, found.account_id) if found else None
    if found is None or account is None:
        raise Unauthorized("this login link was already used or has expired")
    found.used_at = now
    account.last_login_at = now
    return await issue_session(session, account)


async def ensure_operator(session: AsyncSession) -> Account:
    """The operator account exists from the first start; it logs in with one-time links."""
    operator = await repository.find_operator(session)
    if operator is None:
        operator = await repository.add_account(
            session, Account(email=OPERATOR_EMAIL, name="Operator", is_operator=True)
        )
    return operator


async def resolve_organization(
    session: AsyncSession, account: Account, organization_id: uuid.UUID | None
) -> Organization:
    if organization_id is not None:
        organization = await repository.get_organization(session, organization_id)
        if organization is None:
            raise NotFound(f"organization {organization_id} not found")
        if not account.is_operator and (
            await repository.membership(session, organization_id, account.id) is None
        ):
            raise Forbidden("you are not a member of this organization")
        return organization
    organizations = await repository.organizations_of(session, account.id)
    if len(organizations) == 1:
        return organizations[0]
    if not organizations:
        raise NotFound("this account belongs to no organization")
    raise BadRequest("you belong to several organizations: pass ?organization_id=")


async def organizations_of(session: AsyncSession, account: Account) -> list[Organization]:
    return await repository.organizations_of(session, account.id)
