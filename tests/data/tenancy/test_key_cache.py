"""The cache of recent sender keys: entries live for their time, the oldest go first."""

from __future__ import annotations

import time
import uuid

from webhost.data.tenancy.key_cache import KeyCache
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.repository import KeyRecord
from webhost.data.tenancy.scope import Tenant, tenant_name_for


def a_record() -> KeyRecord:
    tenant_id = uuid.uuid4()
    return KeyRecord(
        tenant=Tenant(id=tenant_id, name=tenant_name_for(tenant_id)),
        secret_digest="0" * 64,
        revoked=False,
        limits=TenantLimits(),
    )


def test_an_entry_is_kept_for_its_time_to_live_and_not_longer() -> None:
    cache = KeyCache(ttl_seconds=0.2)
    record = a_record()
    cache.put("whs_a", record)
    assert cache.get("whs_a") is record
    time.sleep(0.25)
    assert cache.get("whs_a") is None


def test_reading_an_entry_does_not_extend_its_life() -> None:
    cache = KeyCache(ttl_seconds=0.3)
    cache.put("whs_a", a_record())
    for _ in range(4):
        time.sleep(0.1)
        cache.get("whs_a")
    assert cache.get("whs_a") is None


def test_past_its_size_the_entry_put_longest_ago_goes() -> None:
    cache = KeyCache(max_entries=2)
    first, second, third = a_record(), a_record(), a_record()
    cache.put("whs_1", first)
    cache.put("whs_2", second)
    cache.put("whs_1", first)  # put again: the newest now
    cache.put("whs_3", third)
    assert cache.get("whs_2") is None
    assert cache.get("whs_1") is first
    assert cache.get("whs_3") is third


def test_dropped_and_cleared_entries_are_gone() -> None:
    cache = KeyCache()
    cache.put("whs_1", a_record())
    cache.put("whs_2", a_record())
    cache.drop("whs_1")
    cache.drop("whs_unknown")
    assert cache.get("whs_1") is None
    assert cache.get("whs_2") is not None
    cache.clear()
    assert cache.get("whs_2") is None
