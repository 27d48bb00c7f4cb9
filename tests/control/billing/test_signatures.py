from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st

from tests.control.billing.helpers import new_checkout, with_api
from tests.support.fakes.stripe import FakeStripe, sign
from webhost.control.billing.signatures import DEFAULT_TOLERANCE_SECONDS, verify_event
from webhost.errors import BadRequest, ConfigurationError

SECRET = "whsec_test_0123456789abcdef"
SIGNED_AT = 1_800_000_000


def event_body(**fields: Any) -> bytes:
    event = {
        "id": "evt_1",
        "object": "event",
        "type": "invoice.paid",
        "created": SIGNED_AT,
        "data": {"object": {"id": "in_1", "object": "invoice"}},
    } | fields
    return json.dumps(event).encode()


def verify(payload: bytes, header: str | None, **options: Any) -> dict[str, Any]:
    return verify_event(payload, header, SECRET, now=SIGNED_AT + 1, **options)


def test_a_signed_event_passes() -> None:
    payload = event_body()

    event = verify(payload, sign(payload, SECRET, SIGNED_AT))

    assert event["id"] == "evt_1"
    assert event["data"]["object"]["id"] == "in_1"


def test_the_fakes_signature_is_stripes() -> None:
    payload = event_body()
    expected = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), SECRET, SIGNED_AT
    )

    assert sign(payload, SECRET, SIGNED_AT) == expected


def test_the_events_stripe_sends_for_a_checkout_pass(fake_stripe: FakeStripe) -> None:
    session = with_api(fake_stripe, lambda api: new_checkout(api, fake_stripe.add_price(900)))
    events = fake_stripe.complete_checkout(session.id)

    delivered = []
    for event in events:
        payload = json.dumps(event).encode()
        delivered.append(verify_event(payload, sign(payload, SECRET), SECRET))

    assert [event["type"] for event in delivered] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    assert delivered == events


def test_one_of_several_signatures_may_match() -> None:
    # while a signing secret is rolled, Stripe signs with the old and the new one
    payload = event_body()
    other = sign(payload, "whsec_old").split(",")[1]
    header = f"{sign(payload, SECRET, SIGNED_AT)},{other}"

    assert verify(payload, header)["id"] == "evt_1"


def test_a_signature_with_another_secret_is_refused() -> None:
    payload = event_body()

    with pytest.raises(BadRequest, match="does not match"):
        verify(payload, sign(payload, "whsec_forged", SIGNED_AT))


def test_a_changed_body_is_refused() -> None:
    header = sign(event_body(), SECRET, SIGNED_AT)

    with pytest.raises(BadRequest, match="does not match"):
        verify(event_body(type="customer.subscription.deleted"), header)


def test_a_changed_timestamp_is_refused() -> None:
    payload = event_body()
    signature = sign(payload, SECRET, SIGNED_AT).split(",")[1]

    with pytest.raises(BadRequest, match="does not match"):
        verify(payload, f"t={SIGNED_AT + 60},{signature}")


def test_a_signature_older_than_the_tolerance_is_refused() -> None:
    payload = event_body()
    header = sign(payload, SECRET, SIGNED_AT)

    assert verify_event(payload, header, SECRET, now=SIGNED_AT + DEFAULT_TOLERANCE_SECONDS)
    with pytest.raises(BadRequest, match="signed 301 seconds ago"):
        verify_event(payload, header, SECRET, now=SIGNED_AT + DEFAULT_TOLERANCE_SECONDS + 1)
    with pytest.raises(BadRequest, match="seconds ago"):
        verify_event(payload, header, SECRET, tolerance_seconds=10, now=SIGNED_AT + 11)


def test_the_clock_defaults_to_now() -> None:
    payload = event_body()

    assert verify_event(payload, sign(payload, SECRET), SECRET)["id"] == "evt_1"
    with pytest.raises(BadRequest, match="seconds ago"):
        verify_event(payload, sign(payload, SECRET, int(time.time()) - 3600), SECRET)


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_header_is_refused(header: str | None) -> None:
    with pytest.raises(BadRequest, match="Stripe-Signature header is missing"):
        verify(event_body(), header)


@pytest.mark.parametrize(
    "header",
    ["v1=abc", "t=,v1=abc", "t=soon,v1=abc", "t=1,v1", "t=1,,v1=abc", "t=١٢٣,v1=abc", "garbage"],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(BadRequest, match="malformed"):
        verify(event_body(), header)


def test_a_header_without_a_v1_signature_is_refused() -> None:
    payload = event_body()
    v0 = sign(payload, SECRET, SIGNED_AT).replace("v1=", "v0=")

    with pytest.raises(BadRequest, match="no v1 signature"):
        verify(payload, v0)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe not text", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "invoice.paid", "data": {"object": {}}}', "no 'id'"),
        (b'{"id": "evt_1", "data": {"object": {}}}', "no 'type'"),
        (b'{"id": "evt_1", "type": "invoice.paid"}', "no 'data.object'"),
        (b'{"id": "evt_1", "type": "invoice.paid", "data": {"object": 3}}', "no 'data.object'"),
        (b'{"id": 7, "type": "invoice.paid", "data": {"object": {}}}', "no 'id'"),
        (b"[" * 100_000, "deep"),
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused(payload: bytes, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        verify(payload, sign(payload, SECRET, SIGNED_AT))


def test_a_missing_secret_is_a_configuration_error() -> None:
    payload = event_body()

    with pytest.raises(ConfigurationError):
        verify_event(payload, sign(payload, ""), " ")


def test_refusals_do_not_quote_the_secret() -> None:
    payload = event_body()
    headers = [sign(payload, "whsec_forged", SIGNED_AT), sign(payload, SECRET, SIGNED_AT - 999)]

    for header in headers:
        with pytest.raises(BadRequest) as raised:
            verify(payload, header)
        assert SECRET not in str(raised.value)
        assert header not in str(raised.value)


@given(header=st.text(max_size=300))
def test_garbage_headers_are_refused_cleanly(header: str) -> None:
    with pytest.raises(BadRequest):
        verify(event_body(), header)


fields = st.tuples(
    st.sampled_from(["t", "v1", "v0", "", "T", "v1 "]) | st.text(max_size=5),
    st.text(max_size=70) | st.integers(min_value=-(10**15), max_value=10**15).map(str),
)


@given(parts=st.lists(fields, max_size=6))
def test_headers_shaped_like_signatures_are_refused_cleanly(parts: list[tuple[str, str]]) -> None:
    header = ",".join(f"{key}={value}" for key, value in parts)

    with pytest.raises(BadRequest):
        verify(event_body(), header)


@given(payload=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_signed_garbage_bodies_are_refused_cleanly(payload: bytes) -> None:
    try:
        event = verify(payload, sign(payload, SECRET, SIGNED_AT))
    except BadRequest:
        return
    assert isinstance(event["data"]["object"], dict)
