"""What a tenant's plan allows on its data plane, as published in the tenant directory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TenantLimits:
    """None means the data plane's default applies."""

    yjs_document_max_bytes: int | None = None
