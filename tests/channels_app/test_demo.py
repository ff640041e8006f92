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


def test_a_demo_operator_works_in_a_time_zone_of_her_own(client):
    seed_demo()
    anna = User.objects.get(username="anna")
    client.force_login(anna)

    page = client.get("/").content.decode()

    assert anna.time_zone == "Europe/Moscow"
    assert 'data-time-zone="Europe/Moscow"' in page
    # The resolved conversation's event lines are worded for whoever reads them.
    events = client.get(
        f"/api/v1/conversations/{Conversation.objects.get(status='resolved').pk}/events/",
        HTTP_ACCEPT_LANGUAGE="pl",
    ).json()["results"]
    assert "Ben Okafor: rozwiązano rozmowę" in [event["text"] for event in events]
