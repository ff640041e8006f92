"""`make demo`'s data: seeded through the real inbound paths, and safe to seed again."""

import pytest

from channels_app.demo import seed_demo
from customers.models import Customer
from inbox.models import Conversation, Message, User

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_once_with_an_email_thread_folded_like_real_mail():
    seed_demo()
    counts = (Conversation.objects.count(), Message.objects.count())

    seed_demo()

    assert (Conversation.objects.count(), Message.objects.count()) == counts
    email = Message.objects.get(channel__kind="email")
    assert email.body.strip() == (
        "Hello, could you send the October invoice again? The PDF I got is empty."
    )
    assert "Novak Design" in email.body_full and "invoice attached" in email.body_full
    assert "<b>October invoice</b>" in email.body_html
    assert email.conversation.customer.name == "Lena Novak"


def test_the_demo_has_customers_writing_in_russian_and_polish():
    seed_demo()

    languages = dict(Customer.objects.values_list("name", "language"))
    assert languages["Ольга Смирнова"] == "ru"
    assert languages["Piotr Nowak"] == "pl"


def test_a_demo_in_russian_signs_its_people_in_to_russian_pages(settings, client):
    settings.LANGUAGE_CODE = "ru"
    seed_demo()

    client.force_login(User.objects.get(username="anna"))
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US")

    assert page["Content-Language"] == "ru"
    assert "Диалоги" in page.content.decode()
