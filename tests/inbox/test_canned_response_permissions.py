"""Canned replies: shared ones are changed by supervisors and admins only, personal ones
are seen and changed by their owner alone."""

import pytest

from inbox.models import CannedResponse
from tests.conftest import client_for
from tests.factories import CannedResponseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_refund(supervisor):
    return CannedResponseFactory(
        shortcut="refund", body="Refunds: https://shop.example/refund", created_by=supervisor
    )


def test_an_operator_cannot_rewrite_or_delete_a_supervisors_shared_reply(
    operator_client, shared_refund
):
    rewritten = operator_client.patch(
        f"/api/v1/canned-responses/{shared_refund.pk}/",
        {"body": "Refunds: https://phish.example/"},
        format="json",
    )
    deleted = operator_client.delete(f"/api/v1/canned-responses/{shared_refund.pk}/")

    assert rewritten.status_code == 403 and rewritten.json()["error"] == "permission_denied"
    assert deleted.status_code == 403
    shared_refund.refresh_from_db()
    assert shared_refund.body == "Refunds: https://shop.example/refund"


def test_an_operator_still_reads_and_uses_shared_replies(operator_client, shared_refund):
    listed = operator_client.get("/api/v1/canned-responses/").json()["results"]

    assert [(c["shortcut"], c["is_shared"], c["can_edit"]) for c in listed] == [
        ("refund", True, False)
    ]


@pytest.mark.parametrize("editor", ["supervisor", "admin_user"])
def test_supervisors_and_admins_change_shared_replies(request, editor, shared_refund):
    client = client_for(request.getfixturevalue(editor))

    rewritten = client.patch(
        f"/api/v1/canned-responses/{shared_refund.pk}/", {"body": "New policy"}, format="json"
    )
    deleted = client.delete(f"/api/v1/canned-responses/{shared_refund.pk}/")

    assert rewritten.status_code == 200 and rewritten.json()["body"] == "New policy"
    assert deleted.status_code == 204
    assert not CannedResponse.objects.exists()


def test_an_operators_reply_is_personal_and_theirs_to_change(operator_client, team):
    created = operator_client.post(
        "/api/v1/canned-responses/", {"shortcut": "hi", "body": "Hello!"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["is_shared"] is False and created.json()["can_edit"] is True
    reply_id = created.json()["id"]
    colleague = client_for(UserFactory(username="ben", teams=[team]))

    assert colleague.get("/api/v1/canned-responses/").json()["results"] == []
    assert colleague.get(f"/api/v1/canned-responses/{reply_id}/").status_code == 404
    assert colleague.delete(f"/api/v1/canned-responses/{reply_id}/").status_code == 404
    changed = operator_client.patch(
        f"/api/v1/canned-responses/{reply_id}/", {"body": "Hi there!"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["body"] == "Hi there!"


def test_a_supervisors_personal_reply_is_not_anyone_elses(supervisor, admin_user):
    personal = CannedResponseFactory(shortcut="mine", is_shared=False, created_by=supervisor)

    admin = client_for(admin_user)

    assert admin.get(f"/api/v1/canned-responses/{personal.pk}/").status_code == 404
    assert (
        admin.patch(
            f"/api/v1/canned-responses/{personal.pk}/", {"body": "x"}, format="json"
        ).status_code
        == 404
    )


def test_an_operator_cannot_share_a_reply(operator_client):
    created = operator_client.post(
        "/api/v1/canned-responses/",
        {"shortcut": "all", "body": "Hello everyone", "is_shared": True},
        format="json",
    )
    assert created.status_code == 403
    assert not CannedResponse.objects.exists()

    own = operator_client.post(
        "/api/v1/canned-responses/", {"shortcut": "all", "body": "Hello"}, format="json"
    ).json()
    shared = operator_client.patch(
        f"/api/v1/canned-responses/{own['id']}/", {"is_shared": True}, format="json"
    )
    assert shared.status_code == 403
    assert CannedResponse.objects.get().is_shared is False


def test_a_supervisors_new_reply_is_shared_unless_they_say(supervisor_client, operator_client):
    shared = supervisor_client.post(
        "/api/v1/canned-responses/", {"shortcut": "bye", "body": "Bye!"}, format="json"
    )
    personal = supervisor_client.post(
        "/api/v1/canned-responses/",
        {"shortcut": "note", "body": "my note", "is_shared": False},
        format="json",
    )

    assert shared.status_code == 201 and shared.json()["is_shared"] is True
    assert personal.status_code == 201 and personal.json()["is_shared"] is False
    seen_by_operator = operator_client.get("/api/v1/canned-responses/").json()["results"]
    assert [c["shortcut"] for c in seen_by_operator] == ["bye"]


def test_shortcuts_are_unique_among_shared_replies_and_each_users_own(
    supervisor_client, operator_client
):
    first = supervisor_client.post(
        "/api/v1/canned-responses/", {"shortcut": "hi", "body": "a"}, format="json"
    )
    second_shared = supervisor_client.post(
        "/api/v1/canned-responses/", {"shortcut": "hi", "body": "b"}, format="json"
    )
    operators_own = operator_client.post(
        "/api/v1/canned-responses/", {"shortcut": "hi", "body": "c"}, format="json"
    )
    operators_second = operator_client.post(
        "/api/v1/canned-responses/", {"shortcut": "hi", "body": "d"}, format="json"
    )

    assert first.status_code == 201
    assert second_shared.status_code == 400 and "shortcut" in second_shared.json()["detail"]
    assert operators_own.status_code == 201
    assert operators_second.status_code == 400
