"""An operator watching the inbox hears a customer's erasure at once: the conversation's
update arrives with the emptied profile."""

import pytest
from asgiref.sync import sync_to_async

from channels_app.services import customer_erase
from inbox.audit.records import AuditActor
from tests.factories import ConversationFactory, CustomerFactory
from tests.inbox.test_inbox_consumer import connect, next_event_of_type

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_an_erasure_is_pushed_to_open_inboxes(channel, operator, admin_user):
    customer = await sync_to_async(CustomerFactory)(name="Maria Garcia")
    conversation = await sync_to_async(ConversationFactory)(channel=channel, customer=customer)
    inbox = await connect(operator)

    await sync_to_async(customer_erase)(customer=customer, actor=AuditActor(user=admin_user))

    event = await next_event_of_type(inbox, "conversation.updated")
    assert event["conversation"]["id"] == conversation.pk
    assert event["conversation"]["customer"] == {"id": customer.pk, "name": ""}
    await inbox.disconnect()
