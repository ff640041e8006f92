"""The channel admin's own actions and their outcomes read in the admin's language."""

import pytest

from channels_app.models import WebhookEvent, WebhookEventStatus
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def russian_admin(client, admin_user, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    admin_user.language = "ru"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)
    return client


def test_the_admin_actions_are_named_in_the_admins_language(russian_admin):
    channel = ChannelFactory(kind="telegram")
    WebhookEvent.objects.create(channel=channel, body=b"{}", body_sha256="0" * 64)

    page = russian_admin.get("/admin/channels_app/webhookevent/").content.decode()
    assert "Обработать снова сейчас (неудачные доставки)" in page
    assert "Process again now" not in page

    page = russian_admin.get("/admin/channels_app/channel/").content.decode()
    assert "Зарегистрировать вебхук Telegram" in page


def test_processing_again_reports_in_the_admins_language_with_its_plural(russian_admin):
    channel = ChannelFactory()
    events = [
        WebhookEvent.objects.create(
            channel=channel, body=b"{}", body_sha256=f"{n:064x}", status=WebhookEventStatus.FAILED
        )
        for n in range(2)
    ]

    response = russian_admin.post(
        "/admin/channels_app/webhookevent/",
        {"action": "process_again", "_selected_action": [event.pk for event in events]},
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    assert any("из 2 неудачных доставок" in message for message in messages), messages
