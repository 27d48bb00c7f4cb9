"""The Python client of WebHost: REST, a local SQLite replica synced with the record sync
protocol, and Yjs documents through pycrdt. See docs/python-client.md."""

from webhost.client.client import WebHostClient
from webhost.client.collection import LocalCollection
from webhost.client.errors import (
    ApiError,
    ClientClosed,
    LocalInputError,
    RecordNotFound,
    ServerUnreachable,
    WebHostClientError,
)
from webhost.client.rest import CollectionInfo, RestApi, RestRecords
from webhost.client.sync.status import Rejection, SyncStatus
from webhost.client.transaction import LocalTransaction
from webhost.client.yjs.document import SharedDocument

__all__ = [
    "ApiError",
    "ClientClosed",
    "CollectionInfo",
    "LocalCollection",
    "LocalInputError",
    "LocalTransaction",
    "RecordNotFound",
    "Rejection",
    "RestApi",
    "RestRecords",
    "ServerUnreachable",
    "SharedDocument",
    "SyncStatus",
    "WebHostClient",
    "WebHostClientError",
]
