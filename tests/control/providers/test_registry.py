from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.gates import GatedLocalProvider
from webhost.config import Settings
from webhost.control.keys.models import KeyScope
from webhost.control.providers.base import DeploymentSpec, Endpoints, Provider, ProvisioningStep
from webhost.control.providers.context import ProviderContext
from webhost.control.providers.local.provider import LocalProvider
from webhost.control.providers.registry import Providers
from webhost.data.tenancy.management import TenantHoldings
from webhost.data.tenancy.repository import ServingState
from webhost.db.engine import create_engine, create_session_factory
from webhost.db.urls import PostgresURL
from webhost.errors import ConfigurationError, InvalidInput
from webhost.security.secret_box import SecretBox


class DutiesThatFail(Provider):
    name = "failing_duties"

    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        return []

    def endpoints(
        self, deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
    ) -> Endpoints:
        return Endpoints(api_url="http://nowhere", sync_url="ws://nowhere")

    async def publish_key(
        self,
        deployment: DeploymentSpec,
        prefix: str,
        secret_digest: str,
        scope: KeyScope = KeyScope.FULL,
    ) -> None:
        return None

    async def revoke_key(self, deployment: DeploymentSpec, prefix: str) -> None:
        return None

    async def publish_limits(self, deployment: DeploymentSpec) -> None:
        return None

    async def set_serving_state(
        self, deployment: DeploymentSpec, state: ServingState, message: str | None = None
    ) -> None:
        return None

    async def holdings(self, deployment: DeploymentSpec) -> TenantHoldings:
        return TenantHoldings(vehicles=0, oldest_position=None)

    async def run(self) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("the provider's duties broke")


def context_for(tmp_path: Path) -> ProviderContext:
    url = PostgresURL.parse("postgresql://nobody@127.0.0.1:1/webhost")
    return ProviderContext(
        settings=Settings(data_dir=tmp_path),
        server=url.with_database("postgres"),
        control_database=url,
        sessions=create_session_factory(create_engine(url)),
        secret_box=SecretBox(bytes(32)),
    )


def test_the_configured_provider_serves_under_its_own_name(tmp_path: Path) -> None:
    providers = Providers(context_for(tmp_path), "tests.support.gates:GatedLocalProvider")
    assert isinstance(providers.default, GatedLocalProvider)
    assert providers.default_name == "local"
    assert providers.get("local") is providers.default
    assert providers.name_for(None) == "local"
    assert providers.name_for("local") == "local"


def test_built_in_providers_load_when_first_named(tmp_path: Path) -> None:
    providers = Providers(
        context_for(tmp_path), "tests.control.providers.test_registry:DutiesThatFail"
    )
    local = providers.get("local")
    assert isinstance(local, LocalProvider)
    assert providers.get("local") is local


def test_an_unknown_provider_is_refused_with_the_known_names(tmp_path: Path) -> None:
    providers = Providers(context_for(tmp_path), "local")
    with pytest.raises(
        ConfigurationError,
        match=r"unknown provider 'nowhere': use one of \['flyio', 'hetzner', 'local'\]",
    ):
        providers.get("nowhere")
    with pytest.raises(InvalidInput, match="unknown provider 'nowhere'"):
        providers.check("nowhere")
    with pytest.raises(ConfigurationError, match="cannot load provider"):
        Providers(context_for(tmp_path), "tests.support.nothing_here:Provider")


def test_a_provider_whose_duties_fail_ends_the_providers_run(tmp_path: Path) -> None:
    providers = Providers(
        context_for(tmp_path), "tests.control.providers.test_registry:DutiesThatFail"
    )

    async def run_for_a_moment() -> None:
        await asyncio.wait_for(providers.run(), timeout=30)

    with pytest.raises(RuntimeError, match="the provider's duties broke"):
        asyncio.run(run_for_a_moment())


def test_the_flyio_provider_is_refused_without_its_token(tmp_path: Path) -> None:
    providers = Providers(context_for(tmp_path), "local")
    with pytest.raises(InvalidInput, match="the flyio provider needs WEBHOST_FLY_API_TOKEN"):
        providers.check("flyio")
