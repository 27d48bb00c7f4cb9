"""``WebHostClient``: REST calls, a local replica synced with the record sync protocol, and
Yjs documents, for scripts and devices.

    async with WebHostClient(api_url=..., sync_url=..., api_key=..., replica="app.db") as client:
        tasks = await client.replicate("tasks", schema="@id, projectId, done")
        key = await tasks.insert({"title": "Write docs", "done": False})   # works offline
        await client.synced()                                               # pushed and pulled
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypeVar
from urllib.parse import parse_qsl

from webhost.client.collection import LocalCollection
from webhost.client.errors import ClientClosed, LocalInputError
from webhost.client.mutations import Mutation
from webhost.client.replica import local_writes, scopes
from webhost.client.replica.database import ReplicaDatabase
from webhost.client.replica.state import Scope
from webhost.client.rest import RestApi
from webhost.client.sockets import websocket_url
from webhost.client.sync.engine import RejectionHandler, SyncEngine
from webhost.client.sync.status import SyncStatus
from webhost.client.transaction import LocalTransaction
from webhost.client.transport import open_http
from webhost.client.yjs.document import SharedDocument
from webhost.data.collections.dexie_schema import (
    CollectionSchema,
    parse_schema,
    validate_collection_name,
)
from webhost.data.collections.query import parse_list_query
from webhost.errors import InvalidInput

T = TypeVar("T")

_NOT_FILTERS = ("order", "limit", "offset")


class WebHostClient:
    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        sync_url: str | None = None,
        replica: str | os.PathLike[str] = ":memory:",
        sync: bool = True,
        pull_limit: int = 1000,
        on_rejection: RejectionHandler | None = None,
    ) -> None:
        """``replica``: the SQLite file of the local replica (``":memory:"``: gone on close).
        ``sync``: False keeps the replica local until a client with sync opens it."""
        self.api_url = api_url.rstrip("/")
        self.sync_url = websocket_url(sync_url or self.api_url)
        self._api_key = api_key
        self._http = open_http(self.api_url, api_key)
        self.rest = RestApi(self._http)
        self._replica = ReplicaDatabase(replica)
        self._sync = sync
        self._pull_limit = pull_limit
        self._on_rejection = on_rejection
        self._schemas: dict[str, CollectionSchema] = {}
        self._engine: SyncEngine | None = None
        self._documents: dict[str, SharedDocument] = {}
        self._client_id: str | None = None
        self._open = False

    def __repr__(self) -> str:
        return f"WebHostClient(api_url={self.api_url!r}, replica={self._replica.path!r})"

    async def __aenter__(self) -> WebHostClient:
        await self._replica.open()
        self._open = True
        client_id, known = await self._replica.read(
            lambda state: (state.client_id, {n: s.schema for n, s in state.scopes.items()})
        )
        self._client_id = client_id
        self._schemas.update(known)
        if self._sync:
            self._engine = SyncEngine(
                self._http,
                self._replica,
                client_id,
                self.sync_url,
                self._api_key,
                scope_names=lambda: set(self._schemas),
                pull_limit=self._pull_limit,
                on_rejection=self._on_rejection,
            )
            self._engine.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._engine is not None:
            await self._engine.stop()
        for document in self._documents.values():
            await document.close()
        self._documents.clear()
        await self._http.aclose()
        await self._replica.close()

    @property
    def client_id(self) -> str:
        """This replica's id in the sync protocol, kept in the replica file."""
        if self._client_id is None:
            raise ClientClosed("the client is not open: use it in `async with`")
        return self._client_id

    # -- the local replica -----------------------------------------------------------------

    async def replicate(
        self, name: str, *, schema: str | None = None, filter: str | None = None
    ) -> LocalCollection:
        """Sync the collection ``name`` into the replica, all of it or the records matching
        ``filter`` (REST's syntax, e.g. ``"projectId=eq.42&done=is.false"``). Without
        ``schema`` the replica uses the one it knows, else asks the server for it."""
        self._require_open()
        _check(validate_collection_name, name)
        if schema is None:
            known = self._schemas.get(name)
            schema = known.source if known else (await self.rest.get_collection(name)).schema
        parsed: CollectionSchema = _check(parse_schema, schema)
        if parsed.auto_increment:
            raise LocalInputError(
                f"collection {name!r} numbers its records on the server (++{parsed.primary_key}),"
                " so two offline clients would make the same key: use '@id' or 'id' to sync it"
            )
        if filter is not None:
            _check_filter(filter)
        scope = Scope(name, parsed, filter)
        await self._replica.write(lambda state: scopes.save(state, scope))
        self._schemas[name] = parsed
        if self._engine is not None:
            self._engine.request_pull()
        return self.collection(name)

    def collection(self, name: str) -> LocalCollection:
        """A collection this replica syncs (see ``replicate``)."""
        return LocalCollection(name, self._schema_of(name), self._replica, self.transaction)

    def transaction(self) -> LocalTransaction:
        """Several local writes stored (and later pushed) together, or not at all."""
        self._require_open()
        return LocalTransaction(self._schema_of, self._commit)

    async def _commit(self, writes: Sequence[Mutation]) -> None:
        pending = await self._replica.write(lambda state: local_writes.apply(state, writes))
        if self._engine is not None:
            self._engine.status.pending = pending
            self._engine.request_push()

    def _schema_of(self, name: str) -> CollectionSchema:
        schema = self._schemas.get(name)
        if schema is None:
            raise LocalInputError(
                f"collection {name!r} is not replicated: call replicate({name!r}) first"
            )
        return schema

    # -- sync ------------------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        return self._require_engine().status

    async def synced(self) -> None:
        """Wait until every local write is acknowledged and every scope pulled (as far as the
        server's last notice); wrap in ``asyncio.timeout`` to bound the wait."""
        await self._require_engine().synced()

    async def sync_now(self) -> None:
        """Push and pull at once, and wait until both are done."""
        await self._require_engine().sync_now()

    # -- Yjs -------------------------------------------------------------------------------

    async def yjs(self, name: str, *, persist: bool = True) -> SharedDocument:
        """The Yjs document ``name``, connected and kept in sync while the client is open;
        ``persist`` keeps its updates in the replica file, so offline edits survive."""
        self._require_open()
        document = self._documents.get(name)
        if document is None:
            document = SharedDocument(
                name, self.sync_url, self._api_key, self._replica if persist else None
            )
            await document.start()
            self._documents[name] = document
        return document

    def _require_open(self) -> None:
        if not self._open:
            raise ClientClosed("the client is not open: use it in `async with`")

    def _require_engine(self) -> SyncEngine:
        self._require_open()
        if self._engine is None:
            raise ClientClosed("this client does not sync (it was made with sync=False)")
        return self._engine


def _check_filter(filter: str) -> None:
    if not isinstance(filter, str):
        raise LocalInputError(f"filter must be text in REST's syntax, not {type(filter).__name__}")
    pairs = parse_qsl(filter, keep_blank_values=True)
    for name, _ in pairs:
        if name in _NOT_FILTERS:
            raise LocalInputError(f"a sync filter takes no {name!r}: it selects, it does not page")
    _check(parse_list_query, pairs)


def _check(check: Callable[..., T], *args: object) -> T:
    """Run one of the server's own input checks; its refusal becomes a local one."""
    try:
        return check(*args)
    except InvalidInput as exc:
        raise LocalInputError(exc.message) from None
