"""How long sync keeps what offline clients may still need, and how often it cleans up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webhost.config import Settings


@dataclass(frozen=True)
class SyncOptions:
    # tombstones and pushed txids older than this are compacted; cursors older start over
    tombstone_retention_seconds: int = 30 * 24 * 3600
    compaction_interval_seconds: float = 3600.0
    # live streams hear of this process's commits at once; writes of other processes are
    # picked up by looking this often
    live_poll_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SyncOptions:
        return cls(
            tombstone_retention_seconds=round(settings.sync_tombstone_days * 24 * 3600),
            compaction_interval_seconds=settings.sync_compaction_interval_seconds,
        )
