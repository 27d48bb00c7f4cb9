"""PostgreSQL connection addresses, rendered for each driver we use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from webhost.errors import ConfigurationError


@dataclass(frozen=True)
class PostgresURL:
    """One server + database + credentials; ``host`` may be a Unix socket directory."""

    url: URL

    @classmethod
    def parse(cls, raw: str, *, setting: str = "DATABASE_URL") -> PostgresURL:
        """``setting`` names where the address came from, for the error message."""
        try:
            url = make_url(raw)
        except ArgumentError as exc:
            raise ConfigurationError(f"{setting} is not a valid PostgreSQL URL") from exc
        if url.get_backend_name() not in {"postgresql", "postgres"}:
            raise ConfigurationError(f"{setting} must start with postgresql://")
        return cls(url.set(drivername="postgresql"))

    @property
    def database(self) -> str:
        return self.url.database or "postgres"

    @property
    def username(self) -> str:
        return self.url.username or "postgres"

    def with_database(self, name: str) -> PostgresURL:
        return PostgresURL(self.url.set(database=name))

    def with_credentials(self, username: str, password: str | None) -> PostgresURL:
        return PostgresURL(self.url.set(username=username, password=password))

    def for_sqlalchemy(self) -> URL:
        return self.url.set(drivername="postgresql+asyncpg")

    def for_libpq(self) -> str:
        """psycopg (procrastinate) takes a libpq URI."""
        return self.url.render_as_string(hide_password=False)

    def redacted(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"PostgresURL({self.redacted()})"
