"""Generated names and values: what Fly.io would refuse is refused before a request is sent,
and what it accepts goes through."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.control.providers.flyio.helpers import app_name, plane_config, run
from tests.support.fakes.flyio import FakeFly
from webhost.control.providers.flyio.machine_config import config_drifted
from webhost.control.providers.flyio.names import check_app_name, check_volume_name
from webhost.errors import ProvisioningError

APP_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
VOLUME_NAME = re.compile(r"[a-z0-9_]{1,30}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

with_fake = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
names = st.text(st.characters(codec="utf-8"), max_size=80)
bad_app_names = st.one_of(
    names.filter(lambda n: not APP_NAME.fullmatch(n)),
    st.from_regex(
        r"-[a-z0-9-]{0,20}|[a-z0-9]{1,20}-|[a-z0-9]{64,80}|[a-z]*[A-Z_.][a-z]*", fullmatch=True
    ),
)
good_app_names = st.from_regex(APP_NAME, fullmatch=True)
env_names = st.from_regex(ENV_NAME, fullmatch=True).filter(
    lambda n: len(n) <= 255 and not n.upper().startswith("FLY_")
)
env_values = st.text(st.characters(codec="utf-8"), max_size=40)


def refused_before_sending(fake: FakeFly, call: Any) -> ProvisioningError:
    before = len(fake.requests)
    with pytest.raises(ProvisioningError) as refused:
        run(fake, call)
    assert len(fake.requests) == before, "a request was sent for a name Fly.io refuses"
    return refused.value


@with_fake
@given(name=bad_app_names)
def test_an_app_name_fly_refuses_is_refused_before_asking(fake_fly: FakeFly, name: str) -> None:
    refusal = refused_before_sending(fake_fly, lambda fly: fly.ensure_app(name))

    assert "is not a Fly app name" in refusal.message


@given(name=good_app_names)
def test_every_name_fly_takes_for_an_app_passes_the_check(name: str) -> None:
    assert check_app_name(name) == name


@with_fake
@given(
    volume=st.one_of(names.filter(lambda n: not VOLUME_NAME.fullmatch(n)), st.just("pg_data")),
    region=st.one_of(st.from_regex(r"[a-z]{3}", fullmatch=True), names),
    size_gb=st.one_of(st.integers(max_value=0), st.integers(1, 100), st.booleans()),
)
def test_a_volume_fly_refuses_is_refused_before_asking(
    fake_fly: FakeFly, volume: str, region: str, size_gb: int
) -> None:
    valid = (
        VOLUME_NAME.fullmatch(volume)
        and re.fullmatch(r"[a-z]{3}", region)
        and not isinstance(size_gb, bool)
        and size_gb >= 1
    )
    if valid:
        with pytest.raises(ProvisioningError, match="HTTP 404"):  # the app does not exist
            run(fake_fly, lambda fly: fly.ensure_volume("wh-missing", volume, region, size_gb))
        return
    refused_before_sending(fake_fly, lambda fly: fly.ensure_volume("wh-x", volume, region, size_gb))


@given(name=names.filter(lambda n: not VOLUME_NAME.fullmatch(n)))
def test_volume_names_outside_fly_rules_fail_the_check(name: str) -> None:
    with pytest.raises(ProvisioningError, match="is not a Fly volume name"):
        check_volume_name(name)


@with_fake
@given(
    name=st.one_of(
        names.filter(lambda n: not ENV_NAME.fullmatch(n)),
        env_names.map(lambda n: f"FLY_{n}"),
        env_names.map(lambda n: f"fly_{n}"),
    ),
    value=env_values,
)
def test_a_secret_name_fly_refuses_is_refused_before_asking(
    fake_fly: FakeFly, name: str, value: str
) -> None:
    refusal = refused_before_sending(fake_fly, lambda fly: fly.set_secrets("wh-x", {name: value}))

    assert "secret" in refusal.message


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(secrets=st.dictionaries(env_names, env_values, min_size=1, max_size=5))
def test_generated_secrets_arrive_as_given(fake_fly: FakeFly, secrets: dict[str, str]) -> None:
    name = app_name()

    async def scenario(fly: Any) -> int:
        await fly.ensure_app(name)
        return int(await fly.set_secrets(name, secrets))

    assert run(fake_fly, scenario) == 1
    assert fake_fly.apps[name].secrets == secrets


@given(env=st.dictionaries(env_names, env_values, max_size=6), extra=env_names)
def test_a_config_drifts_exactly_when_something_we_set_changed(
    env: dict[str, str], extra: str
) -> None:
    desired = plane_config("vol_0123456789abcdef", env=env).to_fly()
    # what the API shows: our config plus fields it fills in, autostop in boolean form
    shown = desired | {"init": {}, "dns": {}}
    shown["services"] = [service | {"force_instance_key": None} for service in desired["services"]]

    assert not config_drifted(desired, shown)
    assert config_drifted(desired, shown | {"image": "registry.fly.io/other:1"})
    if extra not in env:
        assert config_drifted(desired, shown | {"env": env | {extra: "x"}})
    if env:
        assert config_drifted(desired, shown | {"env": dict(list(env.items())[1:])})


@given(name=names.filter(lambda n: not ENV_NAME.fullmatch(n)))
def test_an_env_name_fly_refuses_is_refused_in_the_config(name: str) -> None:
    with pytest.raises(ProvisioningError, match="is not a valid environment variable name"):
        plane_config("vol_0123456789abcdef", env={name: "x"})
