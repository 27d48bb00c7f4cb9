"""The one write path of positions: the batch endpoint, the stream and OsmAnd all end here.

A batch is admitted by the tenant's point rate, each point is checked on its own (rejected
ones are reported with the reason, the rest go on), and the valid points go to the batch
writer, which stores them with those of other requests of the tenant in one transaction
(batch_writer.py). ``ingest`` returns only after that transaction has committed, so whatever
it reports as accepted is durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from webhost.data.fleet.batch_writer import PositionWriter, Submission
from webhost.data.fleet.batches import Candidate
from webhost.data.fleet.points import (
    PointRejected,
    Position,
    Rejection,
    TimeWindow,
    check_position,
    identifier_problem,
)
from webhost.data.fleet.rate import PointRate

if TYPE_CHECKING:
    from webhost.data.plane import Caller, DataPlane


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [rejection.to_json() for rejection in self.rejected],
        }


class PositionIngest:
    def __init__(self, plane: DataPlane) -> None:
        self.rate = PointRate()
        self.writer = PositionWriter(plane)

    async def ingest(self, caller: Caller, batch: Sequence[Candidate]) -> IngestResult:
        """Store a batch's valid points; raises TooManyRequests (nothing stored) while the
        tenant's point rate is in debt (rate.py)."""
        limits = caller.limits
        self.rate.admit(caller.tenant.id, len(batch), limits.gps_points_per_second)
        window = TimeWindow.at(datetime.now(UTC), limits.retention_days)
        result = IngestResult()
        valid: list[tuple[int, Position]] = []
        for index, candidate in enumerate(batch):
            if isinstance(candidate, Rejection):
                result.rejected.append(candidate)
                continue
            try:
                valid.append((index, check_position(candidate, window)))
            except PointRejected as rejected:
                result.rejected.append(
                    Rejection(index, _echo(candidate), rejected.reason, rejected.code)
                )
        if valid:
            stored = await self.writer.write(Submission(caller, valid))
            result.accepted = stored.stored
            result.duplicates = len(valid) - len(stored.refused) - stored.stored
            result.rejected.extend(stored.refused)
        result.rejected.sort(key=lambda rejection: rejection.index)
        return result


def _echo(position: Position) -> str | None:
    return position.vehicle if identifier_problem(position.vehicle) is None else None
