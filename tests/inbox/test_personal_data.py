"""A customer's personal data: supervisors and admins export all of it as JSON, admins
erase it for good (the raw webhook events that carry it too) while counts and ratings
stay, operators then see an erased conversation rather than an error, and a retention
period erases what is older than it."""

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from channels_app.models import WebhookEvent
from channels_app.tasks import personal_data_erase_expired
from customers.models import Customer, CustomerNote, Identity, IdentityClaim
from inbox.models import (
    Attachment,
    Conversation,
    ConversationStatus,
    CsatSurvey,
    Message,
    SurveyStatus,
)
from inbox.services import customer_merge_with_conversations
from tests.channels_app.test_api_webhook import post_webhook
from tests.factories import ConversationFactory, CustomerFactory, MessageFactory
from tests.helpers import api_payload, surveys_due_now

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def customer_writes_in(client, channel, *, sender_id: str, message_id: str, text: str):
    body = api_payload(sender_id=sender_id, message_id=message_id, name="Maria Garcia", text=text)
    assert post_webhook(client, channel, body).status_code == 200
    return Message.objects.select_related("conversation__customer").get(external_id=message_id)


def answered_survey(conversation, operator, *, rating: int, comment: str) -> CsatSurvey:
    [survey] = surveys_due_now(
        channel=conversation.channel, operator=operator, recipients=["unused"]
    )
    now = timezone.now()
    CsatSurvey.objects.filter(pk=survey.pk).update(
        conversation=conversation,
        customer=conversation.customer,
        status=SurveyStatus.ANSWERED,
        rating=rating,
        comment=comment,
        sent_at=now,
        answered_at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        status=ConversationStatus.RESOLVED, resolved_at=now, resolved_by=operator
    )
    return CsatSurvey.objects.get(pk=survey.pk)


@pytest.fixture
def maria(client, channel, operator):
    """A customer who wrote twice through the API channel, sent a file, is known by two
    profiles merged into one, has a note and rated the conversation with a comment."""
    message = customer_writes_in(
        client, channel, sender_id="maria-api-77", message_id="m-maria-1", text="My order 1234"
    )
    customer_writes_in(
        client, channel, sender_id="maria-api-77", message_id="m-maria-2", text="Still late"
    )
    conversation = message.conversation
    customer = conversation.customer
    attachment = Attachment.objects.create(
        message=message,
        file=ContentFile(b"scan of my passport", name="passport.txt"),
        filename="passport.txt",
        content_type="text/plain",
        size=19,
    )
    IdentityClaim.objects.create(customer=customer, kind="phone", value="+48500100200")
    CustomerNote.objects.create(customer=customer, body="Prefers mornings", author=operator)
    duplicate = CustomerFactory(name="Maria G.", email="maria.g@example.com")
    ConversationFactory(channel=channel, customer=duplicate)
    customer_merge_with_conversations(survivor=customer, merged=duplicate, merged_by=operator)
    survey = answered_survey(conversation, operator, rating=2, comment="Maria is unhappy")
    return customer, duplicate, conversation, attachment, survey


def test_who_may_export_and_erase(client, operator_client, supervisor_client, admin_client_api):
    customer = ConversationFactory().customer
    export_url = f"/api/v1/customers/{customer.pk}/export/"
    erase_url = f"/api/v1/customers/{customer.pk}/erase/"

    assert client.get(export_url).status_code in (401, 403)
    assert operator_client.get(export_url).status_code == 403
    assert supervisor_client.get(export_url).status_code == 200
    assert admin_client_api.get(export_url).status_code == 200
    assert client.post(erase_url).status_code in (401, 403)
    assert operator_client.post(erase_url).status_code == 403
    assert supervisor_client.post(erase_url).status_code == 403
    assert Customer.objects.get(pk=customer.pk).erased_at is None
    assert admin_client_api.post(erase_url).status_code == 200
    assert Customer.objects.get(pk=customer.pk).erased_at is not None


def test_an_unknown_customer_is_404(supervisor_client, admin_client_api):
    assert supervisor_client.get("/api/v1/customers/999999/export/").status_code == 404
    assert admin_client_api.post("/api/v1/customers/999999/erase/").status_code == 404


def test_the_export_holds_everything_kept_about_the_customer(supervisor_client, maria):
    customer, duplicate, conversation, _, _ = maria

    response = supervisor_client.get(f"/api/v1/customers/{customer.pk}/export/")

    assert response.status_code == 200
    document = response.json()
    assert document["customer"]["id"] == customer.pk
    assert document["customer"]["name"] == "Maria Garcia"
    [identity] = document["customer"]["identities"]
    assert identity["kind"] == "api" and identity["value"].endswith(":maria-api-77")
    assert document["customer"]["claims"] == [{"kind": "phone", "value": "+48500100200"}]
    assert [note["body"] for note in document["customer"]["notes"]] == ["Prefers mornings"]
    assert [p["id"] for p in document["merged_profiles"]] == [duplicate.pk]
    assert document["merged_profiles"][0]["merged_into"] == customer.pk
    exported = {c["id"]: c for c in document["conversations"]}
    assert set(exported) == set(
        Conversation.objects.filter(customer=customer).values_list("pk", flat=True)
    )
    bodies = [m["body"] for m in exported[conversation.pk]["messages"]]
    assert bodies == ["My order 1234", "Still late"]
    [file] = exported[conversation.pk]["messages"][0]["attachments"]
    assert file["filename"] == "passport.txt" and file["url"]
    assert [(s["kind"], s["rating"], s["comment"]) for s in document["surveys"]] == [
        ("csat", 2, "Maria is unhappy")
    ]
    assert [(m["survivor"], m["merged"]) for m in document["merges"]] == [
        (customer.pk, duplicate.pk)
    ]


def report(supervisor_client, path: str) -> dict:
    today = timezone.now().date()
    response = supervisor_client.get(f"/api/v1/reports/{path}&from={today}&to={today}")
    assert response.status_code == 200, response.content
    return response.json()


def reports_without_comments(supervisor_client) -> tuple[list[dict], list[str]]:
    """Every report's figures, and apart the comments it quotes (which erasure removes)."""
    figures, comments = [], []
    for path in ("csat/", "conversations/"):
        for group in ("operator", "channel", "day"):
            data = report(supervisor_client, f"{path}?group_by={group}")
            for low_rating in data.get("needs_attention", []):
                comments.append(low_rating.pop("comment"))
            # Rows that tie come in either order.
            figures.append(
                {
                    key: sorted(value, key=json.dumps) if isinstance(value, list) else value
                    for key, value in data.items()
                }
            )
    return figures, comments


def test_erasure_removes_personal_data_for_good_and_keeps_counts_and_ratings(
    client, channel, admin_client_api, supervisor_client, maria, django_capture_on_commit_callbacks
):
    customer, duplicate, _, attachment, survey = maria
    other = customer_writes_in(
        client, channel, sender_id="someone-else-9", message_id="m-other-1", text="Hi there"
    )
    reports_before, comments_before = reports_without_comments(supervisor_client)
    assert "Maria is unhappy" in comments_before
    file_name = attachment.file.name
    assert default_storage.exists(file_name)
    raw_events_before = WebhookEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/")

    assert response.status_code == 200, response.content
    assert response.json()["profiles"] == [customer.pk, duplicate.pk]
    for profile in Customer.objects.filter(pk__in=[customer.pk, duplicate.pk]):
        assert (profile.name, profile.email, profile.phone, profile.attributes) == ("", "", "", {})
        assert profile.erased_at is not None
    assert not Identity.objects.filter(customer__in=[customer, duplicate]).exists()
    assert not IdentityClaim.objects.filter(customer__in=[customer, duplicate]).exists()
    assert not CustomerNote.objects.filter(customer__in=[customer, duplicate]).exists()
    messages = Message.objects.filter(conversation__customer=customer)
    assert messages.count() >= 2
    assert set(messages.values_list("body", flat=True)) == {""}
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not default_storage.exists(file_name)
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (2, "")
    # The raw events of Maria's two messages are gone; the other sender's stays.
    assert WebhookEvent.objects.count() == raw_events_before - 2
    assert not any(b"maria-api-77" in bytes(e.body) for e in WebhookEvent.objects.all())
    assert any(b"someone-else-9" in bytes(e.body) for e in WebhookEvent.objects.all())
    other.refresh_from_db()
    assert other.body == "Hi there"
    assert Customer.objects.get(pk=other.conversation.customer_id).name == "Maria Garcia"
    reports_after, comments_after = reports_without_comments(supervisor_client)
    assert reports_after == reports_before
    assert "Maria is unhappy" not in comments_after
    # What is left to export says nothing of her.
    exported = supervisor_client.get(f"/api/v1/customers/{customer.pk}/export/").content
    for text in (b"Maria", b"maria-api-77", b"1234", b"passport", b"unhappy", b"+48500100200"):
        assert text not in exported


def test_operators_see_an_erased_conversation_as_erased(client, operator, admin_client_api, maria):
    customer, _, conversation, _, _ = maria
    admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/")
    client.force_login(operator)

    pane = client.get(f"/inbox/conversations/{conversation.pk}/")
    detail = client.get(f"/api/v1/customers/{customer.pk}/")
    listing = client.get("/")

    assert pane.status_code == 200
    pane_data = pane.json()
    assert "were erased" in pane_data["thread_html"]
    assert "Erased" in pane_data["thread_html"]
    assert "Personal data erased" in pane_data["profile_html"]
    assert "Merge with" not in pane_data["profile_html"]
    assert detail.status_code == 200 and detail.json()["name"] == ""
    assert listing.status_code == 200


def test_a_reply_to_an_erased_customer_is_refused_and_a_note_is_kept(
    operator_client, admin_client_api, maria
):
    customer, _, conversation, _, _ = maria
    admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/")
    url = f"/api/v1/conversations/{conversation.pk}/messages/"
    sent_before = Message.objects.filter(conversation=conversation).count()

    reply = operator_client.post(url, {"body": "Hello?"}, format="json")
    note = operator_client.post(url, {"body": "Erased on request", "private": True}, format="json")

    assert reply.status_code == 400 and "erased" in reply.json()["detail"]
    assert note.status_code == 201
    assert Message.objects.filter(conversation=conversation).count() == sent_before + 1


def test_an_erased_customer_cannot_be_merged_nor_a_merge_undone(
    operator_client, admin_client_api, channel, maria
):
    customer, _, _, _, _ = maria
    admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/")
    merge_id = customer.merges_survived.get().pk
    other = ConversationFactory(channel=channel).customer

    undo = operator_client.post(f"/api/v1/customer-merges/{merge_id}/undo/")
    merge = operator_client.post(
        f"/api/v1/customers/{other.pk}/merge/", {"other": customer.pk}, format="json"
    )

    assert undo.status_code == 400 and merge.status_code == 400
    assert Customer.objects.get(pk=customer.pk).merged_into_id is None


def test_a_profile_merged_into_another_is_erased_through_its_survivor(admin_client_api, maria):
    customer, duplicate, _, _, _ = maria

    response = admin_client_api.post(f"/api/v1/customers/{duplicate.pk}/erase/")

    assert response.status_code == 400
    assert str(customer.pk) in response.json()["detail"]
    assert Customer.objects.get(pk=duplicate.pk).erased_at is None


def test_erasing_twice_answers_the_same_and_changes_nothing_more(admin_client_api, maria):
    customer = maria[0]

    first = admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/")
    second = admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/")

    assert first.status_code == second.status_code == 200
    assert first.json()["conversations"] == second.json()["conversations"]


def writes(client, channel, sender_id: str, message_id: str, text: str):
    return customer_writes_in(
        client, channel, sender_id=sender_id, message_id=message_id, text=text
    )


def make_old(days: int, *, conversation=None, attachment=None, event=None) -> None:
    then = timezone.now() - timedelta(days=days)
    if conversation is not None:
        Conversation.objects.filter(pk=conversation.pk).update(
            created_at=then, last_message_at=then, status=ConversationStatus.RESOLVED
        )
    if attachment is not None:
        Attachment.objects.filter(pk=attachment.pk).update(created_at=then)
    if event is not None:
        WebhookEvent.objects.filter(pk=event.pk).update(created_at=then)


def test_retention_erases_only_what_is_older_than_the_period(
    client, channel, settings, django_capture_on_commit_callbacks
):
    settings.RETENTION_DAYS = 30
    old = customer_writes_in(
        client, channel, sender_id="old-sender-1", message_id="o-1", text="Old"
    )
    new = customer_writes_in(
        client, channel, sender_id="new-sender-2", message_id="n-1", text="New"
    )
    open_old = MessageFactory(conversation=ConversationFactory(channel=channel), body="Open, old")
    old_file = Attachment.objects.create(
        message=new, file=ContentFile(b"old", name="old.txt"), filename="old.txt", size=3
    )
    new_file = Attachment.objects.create(
        message=new, file=ContentFile(b"new", name="new.txt"), filename="new.txt", size=3
    )
    old_event, new_event = WebhookEvent.objects.order_by("id")
    make_old(40, conversation=old.conversation, attachment=old_file, event=old_event)
    make_old(40, conversation=open_old.conversation)
    Conversation.objects.filter(pk=open_old.conversation_id).update(status="open")
    make_old(20, conversation=new.conversation)

    with django_capture_on_commit_callbacks(execute=True):
        totals = personal_data_erase_expired()

    assert totals == {"conversations": 1, "attachments": 1, "raw_events": 1}
    old.refresh_from_db(), new.refresh_from_db(), open_old.refresh_from_db()
    assert (old.body, new.body, open_old.body) == ("", "New", "Open, old")
    assert Conversation.objects.get(pk=old.conversation_id).erased_at is not None
    assert Conversation.objects.get(pk=new.conversation_id).erased_at is None
    assert list(Attachment.objects.values_list("pk", flat=True)) == [new_file.pk]
    assert not default_storage.exists(old_file.file.name)
    assert default_storage.exists(new_file.file.name)
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [new_event.pk]
    # The profile stays: retention is about conversations, not people.
    assert Customer.objects.get(pk=old.conversation.customer_id).name == "Maria Garcia"
    assert personal_data_erase_expired() == {
        "conversations": 0,
        "attachments": 0,
        "raw_events": 0,
    }


def test_without_a_retention_period_nothing_is_erased(client, channel, settings):
    settings.RETENTION_DAYS = 0
    old = customer_writes_in(
        client, channel, sender_id="old-sender-1", message_id="o-1", text="Old"
    )
    make_old(4000, conversation=old.conversation, event=WebhookEvent.objects.get())

    assert personal_data_erase_expired() == {}

    old.refresh_from_db()
    assert old.body == "Old" and WebhookEvent.objects.count() == 1
