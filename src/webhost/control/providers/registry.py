"""Providers are chosen at start-up by name, or by ``module:Class`` for one of your own."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from webhost.control.providers.base import Provider
from webhost.errors import ConfigurationError

if TYPE_CHECKING:
    from webhost.platform import Platform

BUILT_IN = {"local": "webhost.control.providers.local.provider:LocalProvider"}


def load_provider(name: str, platform: Platform) -> Provider:
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
    provider: Provider = provider_class(platform)
    return provider
