"""`make demo` subscribes a stand-in of a company's system to every event, so the settings
page shows a delivery log from the start; seeding again subscribes nothing twice."""

import pytest

from channels_app.demo import seed_demo
from channels_app.demo_response_times import DEMO_HISTORY_CHANNEL
from channels_app.demo_webhooks import DEMO_WEBHOOK_PATH
from inbox.models import Message, WebhookDelivery, WebhookSubscription
from inbox.outgoing_webhooks.emitting import EVENTS, MESSAGE_CREATED

pytestmark = pytest.mark.django_db


def test_the_demo_subscribes_its_receiver_to_every_event_once():
    seed_demo()
    seed_demo()

    [subscription] = WebhookSubscription.objects.all()
    assert subscription.url.endswith(DEMO_WEBHOOK_PATH)
    assert subscription.events == list(EVENTS)
    # Every message that came in through the product (the web shop's two months of
    # history are written straight into the tables, as history).
    inbound = (
        Message.objects.filter(direction="in").exclude(channel__name=DEMO_HISTORY_CHANNEL).count()
    )
    assert WebhookDelivery.objects.filter(event=MESSAGE_CREATED).count() >= inbound


def test_the_demo_receiver_answers_what_it_got(client, settings):
    response = client.post(
        DEMO_WEBHOOK_PATH, b"{}", content_type="application/json",
        HTTP_X_SWITCHBOARD_EVENT="webhook.test",
    )  # fmt: skip

    if settings.IS_EMBEDDED:
        assert response.json() == {"received": "webhook.test", "ok": True}
    else:
        assert response.status_code == 404  # the demo's stand-ins exist in embedded mode only
