"""Setting an email channel up through the API, and what admins see of its mailbox."""

import pytest

from channels_app.models import MailboxState

pytestmark = pytest.mark.django_db


def test_an_admin_creates_an_email_channel_with_write_only_passwords(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "email",
            "name": "Support mail",
            "config": {
                "address": "Support@Example.com",
                "secret": "hook-secret",
                "smtp_host": "smtp.example.com",
                "smtp_port": 587,
                "smtp_password": "smtp-pass",
                "imap_host": "imap.example.com",
                "imap_password": "imap-pass",
            },
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["webhook_url"].endswith(f"/webhooks/email/{data['public_id']}/")
    assert data["config"]["smtp_host"] == "smtp.example.com"
    assert not {"secret", "smtp_password", "imap_password"} & set(data["config"])
    assert "smtp-pass" not in response.content.decode()


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "address"),
        ({"address": "not-an-address"}, "address"),
        ({"address": "support+x@example.com"}, "address"),
        ({"address": "s@example.com", "smtp_port": "25"}, "smtp_port"),
        ({"address": "s@example.com", "relay_senders": "forms@example.com"}, "relay_senders"),
    ],
)
def test_a_bad_email_channel_config_is_a_json_400(admin_client_api, config, field):
    response = admin_client_api.post(
        "/api/v1/channels/", {"kind": "email", "name": "Mail", "config": config}, format="json"
    )

    assert response.status_code == 400
    assert field in response.content.decode()


def test_admins_see_each_mailboxs_progress_and_skipped_messages(
    client, admin_user, email_channel, settings
):
    # Production settings serve static files from a manifest that tests do not build.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    state = MailboxState.objects.create(
        channel=email_channel,
        folder="INBOX",
        last_uid=41,
        last_error="UID 42 skipped, left unread on the server: import failed",
    )
    client.force_login(admin_user)

    listing = client.get("/admin/channels_app/mailboxstate/")
    detail = client.get(f"/admin/channels_app/mailboxstate/{state.pk}/change/")

    assert listing.status_code == 200 and "INBOX" in listing.content.decode()
    assert detail.status_code == 200
    assert "UID 42 skipped" in detail.content.decode()
