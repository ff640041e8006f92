"""Text PostgreSQL cannot store (NUL, lone surrogates) is refused at the door, whichever
way it comes in: never a 500, nothing stored."""

import json

import pytest

from inbox.models import Message
from tests.channels_app.test_api_webhook import post_webhook, sign
from tests.factories import CustomerFactory
from tests.helpers import api_payload
from tests.inbox.test_csat import conversation, sent_survey  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

UNSTORABLE = ["\u0000", "\ud800", "a\u0000b", "tail \udfff"]


def assert_refused(response) -> None:
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid"
    assert response.json()["detail"]


@pytest.mark.parametrize("value", UNSTORABLE)
def test_a_customer_attribute_that_cannot_be_stored_is_refused(admin_client_api, value):
    customer = CustomerFactory(attributes={"plan": "gold"})
    body = json.dumps({"attributes": {"k": value}})

    response = admin_client_api.patch(
        f"/api/v1/customers/{customer.pk}/", body, content_type="application/json"
    )

    assert_refused(response)
    customer.refresh_from_db()
    assert customer.attributes == {"plan": "gold"}


def test_json_of_any_depth_is_looked_into(admin_client_api):
    customer = CustomerFactory()
    body = json.dumps({"attributes": {"a": [{"b": {"c": ["ok", "\u0000"]}}]}})

    response = admin_client_api.patch(
        f"/api/v1/customers/{customer.pk}/", body, content_type="application/json"
    )

    assert_refused(response)


def test_a_key_that_cannot_be_stored_is_refused(admin_client_api):
    customer = CustomerFactory()
    body = json.dumps({"attributes": {"\ud800": "x"}})

    response = admin_client_api.patch(
        f"/api/v1/customers/{customer.pk}/", body, content_type="application/json"
    )

    assert_refused(response)


def test_a_channel_config_value_with_nul_is_refused(admin_client_api, channel):
    body = json.dumps({"config": {"callback_url": "http://127.0.0.1:9/\u0000"}})

    response = admin_client_api.patch(
        f"/api/v1/channels/{channel.pk}/", body, content_type="application/json"
    )

    assert_refused(response)
    channel.refresh_from_db()
    assert "\x00" not in json.dumps(channel.config)


def test_a_webhook_kind_with_nul_in_the_path_is_refused(client, channel):
    body = api_payload()

    response = client.post(
        f"/webhooks/%00/{channel.public_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_SWITCHBOARD_SIGNATURE=sign(body),
    )

    assert_refused(response)
    assert Message.objects.count() == 0


def test_a_survey_token_with_nul_is_refused(client):
    assert_refused(client.get("/survey/%00/"))
    assert_refused(client.post("/survey/%00/", {"rating": "5"}))


def test_a_survey_comment_with_nul_is_refused_and_the_survey_stays_unanswered(
    client,
    sent_survey,  # noqa: F811
):
    response = client.post(f"/survey/{sent_survey.token}/", {"rating": "4", "comment": "%00"})
    assert response.status_code == 200  # a literal "%00" typed in the box is just text

    sent_survey.refresh_from_db()
    assert sent_survey.comment == "%00"


def test_a_form_field_with_nul_is_refused(client, sent_survey):  # noqa: F811
    response = client.post(
        f"/survey/{sent_survey.token}/",
        "rating=4&comment=%00",
        content_type="application/x-www-form-urlencoded",
    )

    assert_refused(response)
    sent_survey.refresh_from_db()
    assert sent_survey.rating is None


def test_a_query_string_with_nul_is_refused(admin_client_api):
    assert_refused(admin_client_api.get("/api/v1/customers/?q=%00"))
    assert_refused(admin_client_api.get("/api/v1/conversations/?q=a%00b"))


def test_a_token_header_with_nul_is_refused(client):
    response = client.get("/api/v1/conversations/", HTTP_AUTHORIZATION="Token abc\x00def")

    assert_refused(response)


def test_a_session_cookie_with_nul_is_refused(client):
    # Cookie values may carry octal escapes, which Django decodes: "\\000" is NUL.
    cookie = 'sessionid="\\000abcdefghijklmnopqrstuvwxyz012345"'

    assert_refused(client.get("/", HTTP_COOKIE=cookie))


def test_a_webhook_body_with_nul_in_the_text_is_still_received(client, channel):
    body = api_payload(text="before\u0000after")

    response = post_webhook(client, channel, body)

    assert response.status_code == 200
    assert Message.objects.get().body == "beforeafter"


def test_storable_requests_pass(admin_client_api):
    customer = CustomerFactory()
    body = json.dumps({"attributes": {"k": "caf\u00e9 \U0001f600 \\u0000 literal"}})

    response = admin_client_api.patch(
        f"/api/v1/customers/{customer.pk}/", body, content_type="application/json"
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.attributes["k"] == "caf\u00e9 \U0001f600 \\u0000 literal"
