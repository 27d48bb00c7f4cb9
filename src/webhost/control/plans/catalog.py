"""The default catalog, taken from the product documents (seeds 002 and 004).

Seed 004 gives the figures: GPS ingestion and database queries per second, concurrent users and
retention per plan. For Hobby those are the shared server's totals, so they are the ceiling one
tenant can reach. Regions and replicas come from seed 001's Fly.io and Hetzner configuration.
"""

from __future__ import annotations

from typing import Any

MIB = 1024 * 1024
# the largest Yjs document a tenant of each plan may keep, sized to the plan's memory
YJS_DOCUMENT_MAX_BYTES = {
    "hobby": 16 * MIB,
    "starter": 32 * MIB,
    "professional": 64 * MIB,
    "business": 128 * MIB,
}

DEFAULT_PLANS: list[dict[str, Any]] = [
    {
        "slug": "hobby",
        "name": "Hobby",
        "description": "Shared multi-tenant server (Hetzner, Germany).",
        "price_cents": 1500,
        "mode": "shared",
        "regions": ["nbg1"],
        "replicas": 0,
        "retention_days": 30,
        "vehicle_limit": 5,
        "api_requests_per_second": 1000,
        "gps_points_per_second": 500,
        "concurrent_connections": 50,
        "resources": {"server_type": "cax11"},
        "features": ["Shared PostgreSQL + PostGIS", "Yjs sync", "REST API", "30-day retention"],
        "sort_order": 10,
    },
    {
        "slug": "starter",
        "name": "Starter",
        "description": "Dedicated app in one region (Fly.io).",
        "price_cents": 4900,
        "mode": "dedicated",
        "regions": ["iad"],
        "replicas": 0,
        "retention_days": 90,
        "vehicle_limit": 25,
        "api_requests_per_second": 5000,
        "gps_points_per_second": 2000,
        "concurrent_connections": 100,
        "resources": {"cpu_kind": "shared", "memory_mb": 512, "storage_gb": 10},
        "features": ["Dedicated database", "Dedicated data plane", "90-day retention"],
        "sort_order": 20,
    },
    {
        "slug": "professional",
        "name": "Professional",
        "description": "Dedicated app in two regions with a read replica.",
        "price_cents": 14900,
        "mode": "dedicated",
        "regions": ["iad", "fra"],
        "replicas": 1,
        "retention_days": 365,
        "vehicle_limit": 100,
        "api_requests_per_second": 10000,
        "gps_points_per_second": 5000,
        "concurrent_connections": 250,
        "resources": {"cpu_kind": "performance", "memory_mb": 1024, "storage_gb": 50},
        "features": ["Two regions", "Read replica", "365-day retention"],
        "sort_order": 30,
    },
    {
        "slug": "business",
        "name": "Business",
        "description": "Dedicated multi-region cluster in three regions.",
        "price_cents": 39900,
        "mode": "dedicated",
        "regions": ["iad", "fra", "sin"],
        "replicas": 2,
        "retention_days": 730,
        "vehicle_limit": 500,
        "api_requests_per_second": 20000,
        "gps_points_per_second": 10000,
        "concurrent_connections": 500,
        "resources": {"cpu_kind": "performance", "memory_mb": 2048, "storage_gb": 200},
        "features": ["Three regions", "Two replicas", "730-day retention"],
        "sort_order": 40,
    },
]
