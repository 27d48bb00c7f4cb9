"""Async SQLAlchemy engines and the session dependency that owns each request's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from webhost.db.urls import PostgresURL


def create_engine(url: PostgresURL, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url.for_sqlalchemy(),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,  # errors must not carry record contents or credentials into logs
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
