"""Envelopes of sync messages: what must be right before anything is applied.

Mutations are left as sent (``list[Any]``): each is checked on its own when it is applied, so
one bad mutation is rejected alone instead of refusing the whole push.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from webhost.data.sync.pull import DEFAULT_LIMIT, MAX_LIMIT
from webhost.errors import InvalidInput
from webhost.http.errors import describe_validation_errors

MAX_MUTATIONS = 1000
MAX_SCOPES = 100

ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
TxId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class TransactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    txid: TxId = Field(description="Unique for all time; a retried push sends the same txid.")
    mutations: list[Any] = Field(
        description="Each: collection, op (insert|put|update|delete), key, fields, removed, "
        "stamp. See docs/sync-protocol.md."
    )


class PushBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client: ClientId = Field(description="The replica's id, kept for its life.")
    transactions: list[TransactionIn]


class ScopeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(None, description="From the last pull of this scope; null first.")
    filter: str | None = Field(None, description="REST filter conditions, e.g. projectId=eq.42")


class PullBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collections: dict[str, ScopeIn] = Field(description="Collection name -> its scope.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class SubscribeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collections: dict[str, ScopeIn]


Envelope = TypeVar("Envelope", bound=BaseModel)


def parse_envelope(model: type[Envelope], value: dict[str, Any]) -> Envelope:
    try:
        parsed = model.model_validate(value)
    except ValidationError as exc:
        _status, message, details = describe_validation_errors(exc.errors())
        raise InvalidInput(message, details=details) from exc
    if isinstance(parsed, PushBody):
        count = sum(len(transaction.mutations) for transaction in parsed.transactions)
        if count > MAX_MUTATIONS:
            raise InvalidInput(
                f"a push carries at most {MAX_MUTATIONS} mutations ({count} sent): split it"
            )
    if isinstance(parsed, PullBody | SubscribeBody) and len(parsed.collections) > MAX_SCOPES:
        raise InvalidInput(f"sync at most {MAX_SCOPES} collections at once")
    return parsed
