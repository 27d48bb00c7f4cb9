"""Billing through Stripe, when the installation has Stripe's keys (otherwise plans are assigned
directly, without payment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from webhost.config import Settings
from webhost.control.billing.events import BillingRules
from webhost.control.billing.stripe_api import StripeApi
from webhost.control.billing.suspension import PlaneStates


@dataclass(frozen=True)
class StripeBilling:
    api: StripeApi
    webhook_secret: str
    rules: BillingRules

    @classmethod
    def from_settings(cls, settings: Settings, planes: PlaneStates) -> StripeBilling | None:
        if settings.stripe_secret_key is None or settings.stripe_webhook_secret is None:
            return None
        return cls(
            api=StripeApi(
                settings.stripe_secret_key.get_secret_value(), api_base=settings.stripe_api_base
            ),
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            rules=billing_rules(settings, planes),
        )

    async def close(self) -> None:
        await self.api.aclose()


def billing_rules(settings: Settings, planes: PlaneStates) -> BillingRules:
    return BillingRules(
        grace=timedelta(days=settings.billing_grace_days),
        retention=timedelta(days=settings.billing_retention_days),
        planes=planes,
    )
