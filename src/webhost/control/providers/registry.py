"""The providers of a platform, by name: each deployment is served by the one it was made on.

``WEBHOST_PROVIDER`` (a built-in name, or ``module:Class`` for one of your own) is loaded at
start and serves under its ``name``; other built-in providers are loaded the first time a plan
or a deployment names them. Plans that name no provider use the configured one.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib

import structlog

from webhost.control.providers.base import Provider
from webhost.control.providers.context import ProviderContext
from webhost.errors import ConfigurationError, InvalidInput

log = structlog.get_logger(__name__)

BUILT_IN = {
    "local": "webhost.control.providers.local.provider:LocalProvider",
    "hetzner": "webhost.control.providers.hetzner.provider:HetznerProvider",
    "flyio": "webhost.control.providers.flyio.provider:FlyProvider",
}


def load_provider(name: str, context: ProviderContext) -> Provider:
    target = BUILT_IN.get(name, name)
    module_name, _, class_name = target.partition(":")
    if not class_name:
        raise ConfigurationError(
            f"unknown provider {name!r}: use one of {sorted(BUILT_IN)} or 'module:Class'"
        )
    try:
        provider_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load provider {name!r}: {exc}") from exc
    if not (isinstance(provider_class, type) and issubclass(provider_class, Provider)):
        raise ConfigurationError(f"{name!r} is not a Provider")
    provider: Provider = provider_class(context)
    return provider


class Providers:
    """Loaded providers by the name deployments and plans record (a provider's ``name``)."""

    def __init__(self, context: ProviderContext, configured: str) -> None:
        self.context = context
        self.default = load_provider(configured, context)
        self._loaded: dict[str, Provider] = {self.default.name: self.default}
        self._started: set[str] = set()
        self._new_provider = asyncio.Event()

    @property
    def default_name(self) -> str:
        return self.default.name

    def get(self, name: str) -> Provider:
        provider = self._loaded.get(name)
        if provider is not None:
            return provider
        if name not in BUILT_IN:
            known = sorted({*BUILT_IN, self.default.name})
            raise ConfigurationError(f"unknown provider {name!r}: use one of {known}")
        provider = self._loaded[name] = load_provider(name, self.context)
        self._new_provider.set()
        return provider

    def name_for(self, plan_provider: str | None) -> str:
        """The provider a plan's new deployments are made on."""
        return plan_provider or self.default_name

    def check(self, name: str) -> None:
        """Refuse a provider name that cannot be loaded (a plan naming it could not be sold)."""
        try:
            self.get(name)
        except ConfigurationError as exc:
            raise InvalidInput(exc.message) from exc

    async def run(self) -> None:
        """Every loaded provider's long-running duties; providers loaded later join in. A
        provider whose duties fail ends this too, as one component of the process failing."""
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._new_provider.clear()
                for name, provider in list(self._loaded.items()):
                    if name not in self._started:
                        self._started.add(name)
                        running.add(asyncio.create_task(provider.run(), name=f"provider {name}"))
                loaded = asyncio.create_task(self._new_provider.wait())
                done, _ = await asyncio.wait(
                    {*running, loaded}, return_when=asyncio.FIRST_COMPLETED
                )
                loaded.cancel()
                for task in done - {loaded}:
                    running.discard(task)
                    task.result()  # a provider with nothing to do returns; a failure raises here
        finally:
            for task in running:
                task.cancel()
            for task in running:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def close(self) -> None:
        for name, provider in self._loaded.items():
            try:
                await provider.close()
            except Exception as exc:  # one provider's failure must not keep the others open
                log.error("provider did not close cleanly", provider=name, error=str(exc))
