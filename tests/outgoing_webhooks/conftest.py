import pytest

from channels_app import outgoing_webhooks
from channels_app.contracts import SEND_WEBHOOK_DELIVERIES_TASK
from channels_app.webhook_subscriptions import webhook_subscription_save
from config.celery import app as celery_app
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.helpers import Broker

SECRET = "receiver-secret-0123456789"


class DeliveringBroker(Broker):
    """Keeps the tasks handed to it for the test to run as the worker would."""

    def run_deliveries(self) -> int:
        """Run every delivery task taken so far, as the worker would; how many ran."""
        ran = 0
        while self.taken:
            name, args, _ = self.taken.pop(0)
            if name == SEND_WEBHOOK_DELIVERIES_TASK:
                outgoing_webhooks.webhook_deliveries_send(delivery_ids=args[0])
                ran += 1
        return ran


@pytest.fixture
def broker(monkeypatch):
    broker = DeliveringBroker()
    monkeypatch.setattr(celery_app, "send_task", broker.send_task)
    return broker


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret=SECRET).start()
    yield server
    server.stop()


def subscribe(url: str, events: list[str], **values):
    return webhook_subscription_save(
        subscription=None, values={"url": url, "events": events, "secret": SECRET, **values}
    )
