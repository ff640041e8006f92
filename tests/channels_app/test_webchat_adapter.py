"""The webchat adapter on its own: settings, origins and the messages it builds."""

import pytest
from django.core.files.base import ContentFile

from channels_app.adapters.webchat import WebchatAdapter, normalized_origin
from channels_app.contracts import SignatureInvalid, WebhookRequest
from channels_app.models import Channel, WebhookEvent
from channels_app.widget.services import VisitorAttachment, visitor_message_send
from channels_app.widget.visitors import (
    IdentityHashCheck,
    IdentityKind,
    Visitor,
    frame_body,
    frame_signature,
    identity_hash_check,
    visitor_from_token,
    visitor_token,
)
from inbox.models import Message
from tests.factories import WebchatChannelFactory

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_webchat_channel_and_the_identity_secret_stays_hidden(
    admin_client_api,
):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {
            "kind": "webchat",
            "name": "Website",
            "config": {
                "allowed_origins": ["https://shop.example.com"],
                "color": "#0f766e",
                "greeting": "Hello!",
                "company_name": "Shop",
                "prechat_form": True,
                "offline_message": "Back tomorrow",
                "identity_secret": "s3cr3t",
            },
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert "identity_secret" not in response.json()["config"]
    channel = Channel.objects.get(pk=response.json()["id"])
    assert channel.secrets == {"identity_secret": "s3cr3t"}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "allowed_origins"),
        ({"allowed_origins": "https://shop.example.com"}, "allowed_origins"),
        ({"allowed_origins": ["https://shop.example.com/path"]}, "allowed_origins"),
        ({"allowed_origins": ["shop.example.com"]}, "allowed_origins"),
        ({"allowed_origins": ["https://a.example"], "color": "red"}, "color"),
        ({"allowed_origins": ["https://a.example"], "prechat_form": "yes"}, "prechat_form"),
    ],
)
def test_invalid_settings_are_refused(admin_client_api, config, field):
    response = admin_client_api.post(
        "/api/v1/channels/",
        {"kind": "webchat", "name": "Website", "config": config},
        format="json",
    )

    assert response.status_code == 400
    assert field in str(response.json())


@pytest.mark.parametrize(
    ("origin", "normalized"),
    [
        ("https://Shop.Example.com", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://shop.example.com/x", None),
        ("ftp://shop.example.com", None),
        ("null", None),
    ],
)
def test_origins_compare_by_scheme_host_and_port(origin, normalized):
    assert normalized_origin(origin) == normalized


def test_only_frames_signed_by_the_widget_socket_are_accepted():
    channel = WebchatChannelFactory()
    adapter = WebchatAdapter(channel)
    body = frame_body({"visitor_id": "v1", "client_id": "c1", "text": "hi"})
    signature = frame_signature(public_id=str(channel.public_id), body=body)

    adapter.verify(WebhookRequest(body=body, headers={"x-switchboard-widget-signature": signature}))
    other = WebchatChannelFactory()
    with pytest.raises(SignatureInvalid):
        WebchatAdapter(other).verify(
            WebhookRequest(body=body, headers={"x-switchboard-widget-signature": signature})
        )


def test_a_verified_user_comes_first_and_a_typed_email_is_only_a_claim():
    channel = WebchatChannelFactory()
    adapter = WebchatAdapter(channel)

    def identities(**fields):
        body = frame_body({"visitor_id": "v1", "client_id": "c1", "text": "hi", **fields})
        [message] = adapter.parse(WebhookRequest(body=body, headers={}))
        return [(i.kind, i.value, i.is_verified) for i in message.identities]

    assert identities(email="a@example.com") == [
        ("webchat", f"{channel.public_id}:v1", True),
        ("email", "a@example.com", False),
    ]
    # A signed-in user's email is theirs only if the site signed it too.
    assert identities(email="a@example.com", user_id="42") == [
        ("webchat", f"{channel.public_id}:user:42", True),
        ("email", "a@example.com", False),
        ("webchat", f"{channel.public_id}:v1", True),
    ]
    assert identities(email="a@example.com", user_id="42", email_verified=True)[1] == (
        "email",
        "a@example.com",
        True,
    )


def test_a_visitor_token_only_works_on_its_own_channel():
    token = visitor_token(public_id="one", visitor=Visitor(visitor_id="abc", email="a@b.co"))

    assert visitor_from_token(public_id="one", token=token) == Visitor(
        visitor_id="abc", email="a@b.co"
    )
    assert visitor_from_token(public_id="two", token=token) is None


def test_an_identity_hash_signs_the_kind_with_the_value():
    import hashlib
    import hmac

    user = hmac.new(b"secret", b"user:42", hashlib.sha256).hexdigest()
    bare = hmac.new(b"secret", b"42", hashlib.sha256).hexdigest()

    def check(given, *, value="42", kind=IdentityKind.USER, secret="secret", legacy=False):
        return identity_hash_check(
            identity_secret=secret, kind=kind, value=value, given=given, accept_legacy=legacy
        )

    assert check(user) is IdentityHashCheck.VALID
    assert check(user.upper()) is IdentityHashCheck.VALID
    assert check(user, value="43") is IdentityHashCheck.INVALID
    assert check(user, kind=IdentityKind.EMAIL) is IdentityHashCheck.INVALID
    assert check(user, secret="") is IdentityHashCheck.INVALID
    assert check(bare) is IdentityHashCheck.INVALID
    assert check(bare, legacy=True) is IdentityHashCheck.LEGACY


def test_nul_and_lone_surrogates_from_a_visitor_never_lose_the_message():
    channel = WebchatChannelFactory()
    visitor = Visitor(visitor_id="v-nul", name="Ma\x00ria\ud800", email="m\x00@example.com")

    outcome = visitor_message_send(
        channel=channel,
        visitor=visitor,
        text="Hi\x00 there \udfff",
        attachment=VisitorAttachment(
            filename="scan\x00\x01.png",
            content_type="image/png",
            file=ContentFile(b"\x89PNG", name="scan.png"),
        ),
    )

    message = Message.objects.get(pk=outcome.message["id"])
    assert message.body == "Hi there ?"
    assert message.conversation.customer.name == "Maria?"
    assert message.attachments.get().filename == "scan.png"
    assert not WebhookEvent.objects.filter(status="failed").exists()
