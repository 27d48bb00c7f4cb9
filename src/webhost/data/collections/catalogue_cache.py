"""Parsed collection schemas kept in memory, so a record request does not read the catalogue.

Entries are dropped when a collection changes: at once in the process that changed it, and in
every other plane when the catalogue's change notice arrives (tenant migration 0003). A plane
that loses its listener clears everything, since it may have missed notices. Misses are not
kept, so a collection created elsewhere is found on the next request.
"""

from __future__ import annotations

from collections import OrderedDict

from webhost.data.collections.tables import StoredCollection
from webhost.data.tenancy.scope import Tenant

CHANGE_CHANNEL = "webhost_collections"
DEFAULT_MAX_ENTRIES = 10_000


class CollectionCache:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, StoredCollection] = OrderedDict()
        self._max_entries = max_entries

    @staticmethod
    def _key(tenant: Tenant, name: str) -> str:
        return f"{tenant.name}.{name}"

    def get(self, tenant: Tenant, name: str) -> StoredCollection | None:
        key = self._key(tenant, name)
        collection = self._entries.get(key)
        if collection is not None:
            self._entries.move_to_end(key)
        return collection

    def put(self, tenant: Tenant, collection: StoredCollection) -> None:
        key = self._key(tenant, collection.name)
        self._entries[key] = collection
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, tenant: Tenant, name: str) -> None:
        self._entries.pop(self._key(tenant, name), None)

    def on_change_notice(self, payload: str) -> None:
        """A notice names ``<tenant schema>.<collection>``."""
        self._entries.pop(payload, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
