"""API keys in text that is logged keep their lookup prefix and lose their secret."""

from __future__ import annotations

from webhost.security.api_keys import generate_api_key, redact_api_keys, split_api_key


def test_a_key_in_a_path_is_redacted_to_its_prefix() -> None:
    key = generate_api_key()
    redacted = redact_api_keys(f"/v1/fleet/osmand/{key.full_key}?x={key.full_key}")
    assert key.full_key not in redacted
    assert redacted == f"/v1/fleet/osmand/{key.prefix}_***?x={key.prefix}_***"
    assert split_api_key(key.full_key) == key.prefix
    assert redact_api_keys("/v1/fleet/vehicles/truck-1") == "/v1/fleet/vehicles/truck-1"
