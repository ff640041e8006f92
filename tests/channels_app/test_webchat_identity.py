"""A site's signatures of its signed-in user: a user id never passes for an email, and the
earlier unprefixed form is accepted only until the transition date."""

import datetime
import hashlib
import hmac
import logging

import pytest
from django.utils import timezone

from channels_app.widget import selectors as widget_selectors
from tests.channels_app.test_webchat_consumer import (
    customer_known_by_email,
    customer_of,
    email_hash,
    email_identities_of,
    next_frame,
    user_hash,
    visitor,
    write,
)
from tests.factories import WEBCHAT_IDENTITY_SECRET, WebchatChannelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

VICTIM = "victim@example.com"


@pytest.fixture(autouse=True)
def _fresh_presence(monkeypatch):
    monkeypatch.setattr(widget_selectors, "_operators_online", (0.0, False))


@pytest.fixture
def webchat(db, team):
    return WebchatChannelFactory(teams=[team])


def bare_hash(value: str) -> str:
    return hmac.new(WEBCHAT_IDENTITY_SECRET.encode(), value.encode(), hashlib.sha256).hexdigest()


def legacy_until(settings, days_from_today: int) -> None:
    day = timezone.now().date() + datetime.timedelta(days=days_from_today)
    settings.WIDGET_LEGACY_IDENTITY_HASH_UNTIL = day.isoformat()


async def identify(webchat, **fields) -> tuple[dict, str]:
    widget, ready = await visitor(webchat)
    await widget.send_json_to({"type": "identify", **fields})
    answer = await next_frame(widget, "identified")
    await write(widget, "Hello")
    await widget.disconnect()
    return answer, ready["visitor"]["id"]


async def test_a_user_id_chosen_as_someones_email_does_not_verify_that_email(webchat, settings):
    legacy_until(settings, -1)
    victim = await customer_known_by_email(VICTIM)
    # The attacker registered on the site with the user id "victim@example.com" and reuses
    # the site's signature of that id as the email's.
    signed_id = user_hash(VICTIM)

    identified, visitor_id = await identify(
        webchat, user_id=VICTIM, user_hash=signed_id, email=VICTIM, email_hash=signed_id
    )

    assert identified["visitor"]["is_verified"] is True
    customer = await customer_of(webchat, visitor_id)
    assert customer.pk != victim.pk
    assert await email_identities_of(customer) == []


async def test_the_prefixed_email_signature_still_joins_the_customer(webchat, settings):
    legacy_until(settings, -1)
    known = await customer_known_by_email(VICTIM)

    _, visitor_id = await identify(
        webchat, user_id="7", user_hash=user_hash("7"), email=VICTIM, email_hash=email_hash(VICTIM)
    )

    assert (await customer_of(webchat, visitor_id)).pk == known.pk


async def test_unprefixed_signatures_are_accepted_and_logged_during_the_transition(
    webchat, settings, caplog
):
    legacy_until(settings, 0)
    known = await customer_known_by_email(VICTIM)

    with caplog.at_level(logging.WARNING, logger="channels_app.widget.services"):
        identified, visitor_id = await identify(
            webchat,
            user_id="7",
            user_hash=bare_hash("7"),
            email=VICTIM,
            email_hash=bare_hash(VICTIM),
        )

    assert identified["visitor"]["is_verified"] is True
    assert (await customer_of(webchat, visitor_id)).pk == known.pk
    warnings = [record.getMessage() for record in caplog.records]
    assert any("without the 'user:' prefix" in text for text in warnings)
    assert any("without the 'email:' prefix" in text for text in warnings)


async def test_unprefixed_signatures_are_refused_after_the_transition(webchat, settings):
    legacy_until(settings, -1)
    known = await customer_known_by_email(VICTIM)
    widget, _ = await visitor(webchat)

    await widget.send_json_to(
        {"type": "identify", "user_id": "7", "user_hash": bare_hash("7"), "email": VICTIM}
    )
    assert (await next_frame(widget, "error"))["code"] == "identity_invalid"
    await widget.disconnect()

    identified, visitor_id = await identify(
        webchat, user_id="7", user_hash=user_hash("7"), email=VICTIM, email_hash=bare_hash(VICTIM)
    )
    assert identified["visitor"]["is_verified"] is True
    customer = await customer_of(webchat, visitor_id)
    assert customer.pk != known.pk
    assert await email_identities_of(customer) == []
