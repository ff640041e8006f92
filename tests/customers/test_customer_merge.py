import pytest
from django.utils import timezone

from customers.models import Customer, CustomerMerge, CustomerNote, IdentityClaim
from customers.services import CustomerMergeError
from inbox.models import CsatSurvey, SurveyStatus
from inbox.services import customer_merge_undo_with_conversations, customer_merge_with_conversations
from tests.conftest import client_for
from tests.factories import (
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicates(operator, channel):
    survivor = CustomerFactory(name="Maria Garcia", email="maria@example.com", phone="")
    duplicate = CustomerFactory(name="M. Garcia", email="", phone="+34612345678")
    IdentityFactory(customer=survivor, kind="email", value="maria@example.com")
    IdentityFactory(customer=duplicate, kind="phone", value="+34612345678")
    IdentityFactory(customer=duplicate, kind="telegram", value="5551234")
    IdentityClaim.objects.create(customer=duplicate, kind="email", value="maria.g@example.com")
    CustomerNote.objects.create(customer=duplicate, author=operator, body="VIP, be nice")
    conversations = [
        ConversationFactory(customer=duplicate, channel=channel),
        ConversationFactory(customer=survivor, channel=channel),
    ]
    return survivor, duplicate, conversations


def test_merge_moves_everything_and_leaves_an_audit_record(duplicates, operator):
    survivor, duplicate, (moved_conversation, own_conversation) = duplicates

    merge = customer_merge_with_conversations(
        survivor=survivor, merged=duplicate, merged_by=operator
    )

    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert set(survivor.identities.values_list("kind", flat=True)) == {"email", "phone", "telegram"}
    assert survivor.claims.count() == 1
    assert survivor.notes.get().body == "VIP, be nice"
    assert set(survivor.conversations.all()) == {moved_conversation, own_conversation}
    assert survivor.phone == "+34612345678"
    assert survivor.name == "Maria Garcia"
    assert duplicate.merged_into == survivor
    assert not duplicate.identities.exists()
    record = CustomerMerge.objects.get()
    assert record == merge
    assert record.merged_by == operator
    assert record.moved["conversations"] == [moved_conversation.pk]
    assert len(record.moved["identities"]) == 2


def test_undo_restores_both_profiles(duplicates, operator):
    survivor, duplicate, (moved_conversation, own_conversation) = duplicates
    identities_before = {
        customer.pk: set(customer.identities.values_list("kind", "value"))
        for customer in (survivor, duplicate)
    }
    merge = customer_merge_with_conversations(
        survivor=survivor, merged=duplicate, merged_by=operator
    )

    customer_merge_undo_with_conversations(merge=merge, undone_by=operator)

    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert {
        customer.pk: set(customer.identities.values_list("kind", "value"))
        for customer in (survivor, duplicate)
    } == identities_before
    assert list(duplicate.conversations.all()) == [moved_conversation]
    assert list(survivor.conversations.all()) == [own_conversation]
    assert duplicate.notes.count() == 1 and duplicate.claims.count() == 1
    assert (survivor.phone, duplicate.merged_into) == ("", None)
    merge.refresh_from_db()
    assert merge.undone_by == operator and merge.is_undone
    with pytest.raises(CustomerMergeError):
        customer_merge_undo_with_conversations(merge=merge, undone_by=operator)


def test_a_customer_cannot_be_merged_into_itself_or_twice(duplicates, operator):
    survivor, duplicate, _ = duplicates
    with pytest.raises(CustomerMergeError):
        customer_merge_with_conversations(survivor=survivor, merged=survivor, merged_by=operator)
    customer_merge_with_conversations(survivor=survivor, merged=duplicate, merged_by=operator)
    with pytest.raises(CustomerMergeError):
        customer_merge_with_conversations(survivor=survivor, merged=duplicate, merged_by=operator)


def test_merge_and_undo_through_the_api(duplicates, operator_client):
    survivor, duplicate, _ = duplicates

    response = operator_client.post(
        f"/api/v1/customers/{survivor.pk}/merge/", {"other": duplicate.pk}, format="json"
    )

    assert response.status_code == 201
    merge_id = response.json()["id"]
    detail = operator_client.get(f"/api/v1/customers/{survivor.pk}/").json()
    assert {i["kind"] for i in detail["identities"]} == {"email", "phone", "telegram"}
    assert operator_client.get(f"/api/v1/customers/{duplicate.pk}/").status_code == 404
    assert [c["id"] for c in operator_client.get("/api/v1/customers/").json()["results"]] == [
        survivor.pk
    ]

    undo = operator_client.post(f"/api/v1/customer-merges/{merge_id}/undo/")

    assert undo.status_code == 200
    assert Customer.objects.filter(merged_into__isnull=True).count() == 2


def test_merging_an_unknown_customer_is_a_clear_error(duplicates, operator_client):
    survivor, _, _ = duplicates

    response = operator_client.post(
        f"/api/v1/customers/{survivor.pk}/merge/", {"other": 999999}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "other" in response.json()["fields"]


def test_an_operator_of_another_team_neither_sees_nor_changes_these_customers(duplicates):
    survivor, duplicate, _ = duplicates
    stranger = client_for(UserFactory(username="otto", teams=[TeamFactory(name="Sales")]))

    assert stranger.get("/api/v1/customers/").json()["results"] == []
    assert stranger.get(f"/api/v1/customers/{survivor.pk}/").status_code == 404
    assert (
        stranger.patch(
            f"/api/v1/customers/{survivor.pk}/", {"name": "Someone else"}, format="json"
        ).status_code
        == 404
    )
    assert (
        stranger.post(
            f"/api/v1/customers/{survivor.pk}/merge/", {"other": duplicate.pk}, format="json"
        ).status_code
        == 404
    )
    survivor.refresh_from_db()
    assert survivor.name == "Maria Garcia" and not survivor.is_merged


def test_undoing_a_merge_needs_sight_of_the_surviving_profile(duplicates, operator):
    survivor, duplicate, _ = duplicates
    merge = customer_merge_with_conversations(
        survivor=survivor, merged=duplicate, merged_by=operator
    )
    stranger = client_for(UserFactory(username="otto", teams=[TeamFactory(name="Sales")]))

    assert stranger.post(f"/api/v1/customer-merges/{merge.pk}/undo/").status_code == 404
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1


def test_a_value_both_profiles_claim_merges_and_undoes_cleanly(duplicates, operator_client):
    survivor, duplicate, _ = duplicates
    IdentityClaim.objects.create(customer=survivor, kind="email", value="maria.g@example.com")

    response = operator_client.post(
        f"/api/v1/customers/{survivor.pk}/merge/",
        {"other": duplicate.pk},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert list(survivor.claims.values_list("value", flat=True)) == ["maria.g@example.com"]
    merge = CustomerMerge.objects.get()
    customer_merge_undo_with_conversations(merge=merge, undone_by=None)
    assert survivor.claims.count() == 1
    assert duplicate.claims.get().value == "maria.g@example.com"


def test_surveys_follow_their_conversations_both_ways(duplicates, operator, channel):
    survivor, duplicate, (moved_conversation, _) = duplicates
    survey = CsatSurvey.objects.create(
        conversation=moved_conversation,
        customer=duplicate,
        channel=channel,
        token="sent-to-the-duplicate",
        due_at=timezone.now(),
        status=SurveyStatus.SENT,
        sent_at=timezone.now(),
    )

    merge = customer_merge_with_conversations(
        survivor=survivor, merged=duplicate, merged_by=operator
    )

    survey.refresh_from_db()
    assert survey.customer == survivor
    customer_merge_undo_with_conversations(merge=merge, undone_by=operator)
    survey.refresh_from_db()
    assert survey.customer == duplicate
