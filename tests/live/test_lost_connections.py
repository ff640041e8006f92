"""A database restart cuts the connections web processes keep: webhooks still get their
answer, and nothing is stored twice."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.http import HttpResponse

from channels_app.contracts import WebhookRequest
from channels_app.services import active_channels
from channels_app.webhooks import _process
from inbox.models import Message
from tests.helpers import api_payload, sign
from tests.live.conftest import connect_to_database

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def cut_connection(backend_pid: int) -> None:
    """What a database restart does to a connection: the server ends it."""
    with connect_to_database(autocommit=True) as observer:
        observer.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))


@pytest.mark.parametrize(
    "channel_known", [True, False], ids=["channel cached", "channel looked up"]
)
def test_a_pool_thread_whose_connection_was_cut_answers_the_next_webhook(
    channel, settings, channel_known
):
    # A thread that keeps its connection from one webhook to the next, whose connection
    # the database then ends.
    pool_thread = ThreadPoolExecutor(max_workers=1)

    def deliver(message_id: str) -> HttpResponse:
        body = api_payload(message_id=message_id, sender_id="u-1", email="maria@example.com")
        request = WebhookRequest(body=body, headers={"x-switchboard-signature": sign(body)})
        return pool_thread.submit(_process, channel.kind, str(channel.public_id), request).result()

    try:
        first = deliver("m-1")
        kept = pool_thread.submit(lambda: connection.connection.info.backend_pid).result()
        cut_connection(kept)
        if not channel_known:
            active_channels._active_channels.clear()  # the first query is the channel's lookup

        second = deliver("m-2")
    finally:
        pool_thread.submit(lambda: connection.close()).result()
        pool_thread.shutdown()

    assert (first.status_code, second.status_code) == (200, 200), second.content
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["m-1", "m-2"]
