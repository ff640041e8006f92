import pytest

from channels_app import outgoing_webhooks
from channels_app.contracts import SEND_WEBHOOK_DELIVERIES_TASK
from channels_app.webhook_subscriptions import webhook_subscription_save
from config.celery import app as celery_app
from tests.fakes.webhook_receiver import WebhookReceiver

SECRET = "receiver-secret-0123456789"


class Broker:
    """Stands for Redis: keeps the tasks handed to it for the test to run."""

    def __init__(self) -> None:
        self.taken: list[tuple[str, list]] = []

    def send_task(self, name, args=None, countdown=None, **options):
        self.taken.append((name, args))

    def run_deliveries(self) -> int:
        """Run every delivery task taken so far, as the worker would; how many ran."""
        ran = 0
        while self.taken:
            name, args = self.taken.pop(0)
            if name == SEND_WEBHOOK_DELIVERIES_TASK:
                outgoing_webhooks.webhook_deliveries_send(delivery_ids=args[0])
                ran += 1
        return ran


@pytest.fixture
def broker(monkeypatch):
    broker = Broker()
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
