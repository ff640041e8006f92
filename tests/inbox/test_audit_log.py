"""Who did what, when and from where: sign-ins, roles and teams, channel settings (the
names of the keys, never their values), merges, exports and erasures, each on the audit
log, which no one can change; admins read it in the API and the admin site."""

import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from inbox.audit.models import AuditAction, AuditLogIsAppendOnly, AuditRecord
from inbox.audit.records import AuditActor, audit_record
from inbox.models import Role
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PASSWORD = "password123"  # the factories' own


def records(action: AuditAction) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action=action).order_by("id"))


def test_a_sign_in_through_the_sign_in_page_is_recorded_with_its_address(client):
    user = UserFactory(username=f"u-{uuid.uuid4().hex[:10]}")

    response = client.post(
        "/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )

    assert response.status_code == 302
    [record] = records(AuditAction.LOGIN)
    assert (record.actor_id, record.actor_username) == (user.pk, user.username)
    assert record.client_address == "198.51.100.7"
    assert record.details == {"via": "login"}
    assert timezone.now() - record.created_at < timedelta(minutes=1)


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_failed_sign_in_is_recorded_with_the_username_tried_and_no_password(client, path):
    user = UserFactory(username=f"u-{uuid.uuid4().hex[:10]}")

    response = client.post(
        path, {"username": user.username, "password": "not-it-42"}, REMOTE_ADDR="203.0.113.9"
    )

    assert response.status_code == 200  # the form again
    [record] = records(AuditAction.LOGIN_FAILED)
    assert (record.actor_id, record.actor_username) == (user.pk, user.username)
    assert record.client_address == "203.0.113.9"
    assert record.details["via"] == ("admin" if path.startswith("/admin/") else "login")
    assert "not-it-42" not in str(record.details)
    assert not records(AuditAction.LOGIN)


def test_an_admin_changes_an_operators_role_and_teams_through_the_api(admin_client_api, admin_user):
    operator, team = UserFactory(), TeamFactory()

    response = admin_client_api.patch(
        f"/api/v1/operators/{operator.pk}/",
        {"role": "supervisor", "teams": [team.pk]},
        format="json",
        REMOTE_ADDR="192.0.2.44",
    )

    assert response.status_code == 200, response.content
    assert response.json()["role"] == "supervisor"
    operator.refresh_from_db()
    assert operator.role == Role.SUPERVISOR and list(operator.teams.all()) == [team]
    [record] = records(AuditAction.OPERATOR_CHANGED)
    assert record.actor_id == admin_user.pk
    assert record.client_address == "192.0.2.44"
    assert (record.target_type, record.target_id) == ("operator", str(operator.pk))
    assert record.details["role"] == {"from": "operator", "to": "supervisor"}
    assert record.details["teams"] == {"added": [team.pk], "removed": []}


def test_an_operator_may_not_change_roles(operator_client, operator):
    response = operator_client.patch(
        f"/api/v1/operators/{operator.pk}/", {"role": "admin"}, format="json"
    )

    assert response.status_code == 403
    operator.refresh_from_db()
    assert operator.role == Role.OPERATOR
    assert not records(AuditAction.OPERATOR_CHANGED)


def test_team_membership_changes_are_recorded(admin_client_api, admin_user):
    team, kept, added = TeamFactory(), UserFactory(), UserFactory()
    team.members.set([kept])

    response = admin_client_api.patch(
        f"/api/v1/teams/{team.pk}/", {"members": [kept.pk, added.pk]}, format="json"
    )

    assert response.status_code == 200
    [record] = records(AuditAction.TEAM_CHANGED)
    assert record.details["changed"] == ["members"]
    assert record.details["members"] == {"added": [added.pk], "removed": []}


def test_a_channel_config_change_records_the_key_names_never_the_values(
    admin_client_api, admin_user
):
    channel = ChannelFactory()

    response = admin_client_api.patch(
        f"/api/v1/channels/{channel.pk}/",
        {"config": {"secret": "brand-new-secret-value", "callback_url": "https://shop.example/h"}},
        format="json",
    )

    assert response.status_code == 200, response.content
    [record] = records(AuditAction.CHANNEL_CHANGED)
    assert record.actor_id == admin_user.pk
    assert record.details["config_keys"] == ["callback_url", "secret"]
    stored = AuditRecord.objects.filter(pk=record.pk).values_list("details", flat=True)[0]
    assert "brand-new-secret-value" not in str(stored)
    assert "shop.example" not in str(stored)


def test_a_channel_change_that_changes_nothing_is_not_recorded(admin_client_api):
    channel = ChannelFactory(name="Same")

    admin_client_api.patch(f"/api/v1/channels/{channel.pk}/", {"name": "Same"}, format="json")

    assert not records(AuditAction.CHANNEL_CHANGED)


def test_a_merge_and_its_undo_are_recorded(operator_client, operator, channel):
    survivor = ConversationFactory(channel=channel).customer
    merged = ConversationFactory(channel=channel).customer

    merge = operator_client.post(
        f"/api/v1/customers/{survivor.pk}/merge/", {"other": merged.pk}, format="json"
    ).json()
    undo = operator_client.post(f"/api/v1/customer-merges/{merge['id']}/undo/")

    assert undo.status_code == 200
    [merged_record] = records(AuditAction.CUSTOMER_MERGED)
    [undone_record] = records(AuditAction.CUSTOMER_MERGE_UNDONE)
    for record in (merged_record, undone_record):
        assert record.actor_id == operator.pk
        assert record.client_address == "127.0.0.1"
        assert (record.target_type, record.target_id) == ("merge", str(merge["id"]))
        assert record.details == {"survivor": survivor.pk, "merged": merged.pk}


def test_an_export_and_an_erasure_are_recorded(supervisor_client, admin_client_api, admin_user):
    customer = ConversationFactory().customer

    assert supervisor_client.get(f"/api/v1/customers/{customer.pk}/export/").status_code == 200
    assert admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/").status_code == 200

    [exported] = records(AuditAction.CUSTOMER_EXPORTED)
    [erased] = records(AuditAction.CUSTOMER_ERASED)
    assert exported.target_id == erased.target_id == str(customer.pk)
    assert erased.actor_id == admin_user.pk
    assert erased.details["conversations"] == 1
    assert customer.name not in str(erased.details)


def test_records_are_never_changed_nor_deleted_through_the_app():
    record = audit_record(action=AuditAction.LOGIN, actor=AuditActor(address="192.0.2.1"))

    record.client_address = "192.0.2.2"
    with pytest.raises(AuditLogIsAppendOnly):
        record.save()
    with pytest.raises(AuditLogIsAppendOnly):
        record.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditRecord.objects.filter(pk=record.pk).update(client_address="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.get(pk=record.pk).client_address == "192.0.2.1"


@pytest.mark.real_services
def test_the_database_refuses_to_change_or_delete_a_record():
    record = audit_record(action=AuditAction.LOGIN, actor=AuditActor(address="192.0.2.1"))

    for statement in (
        "UPDATE inbox_auditrecord SET client_address = 'x' WHERE id = %s",
        "DELETE FROM inbox_auditrecord WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [record.pk])
    assert AuditRecord.objects.get(pk=record.pk).client_address == "192.0.2.1"


def test_deleting_an_operator_keeps_their_records(admin_user):
    operator = UserFactory(username="leaving")
    audit_record(action=AuditAction.LOGIN, actor=AuditActor(user=operator))

    operator.delete()

    [record] = records(AuditAction.LOGIN)
    assert record.actor_username == "leaving"


def test_the_audit_log_api_is_for_admins_only(operator_client, supervisor_client, client):
    assert operator_client.get("/api/v1/audit-log/").status_code == 403
    assert supervisor_client.get("/api/v1/audit-log/").status_code == 403
    assert client.get("/api/v1/audit-log/").status_code in (401, 403)


def test_the_audit_log_api_filters_by_action_actor_and_period(admin_client_api, admin_user):
    anna, bob = UserFactory(username="anna-a"), UserFactory(username="bob-b")
    audit_record(action=AuditAction.LOGIN, actor=AuditActor(user=anna))
    audit_record(action=AuditAction.LOGIN_FAILED, actor=AuditActor(user=anna))
    audit_record(action=AuditAction.LOGIN, actor=AuditActor(user=bob))

    def usernames(query: str) -> list[str]:
        response = admin_client_api.get(f"/api/v1/audit-log/?{query}")
        assert response.status_code == 200, response.content
        return [row["actor_username"] for row in response.json()["results"]]

    assert usernames("action=login") == ["bob-b", "anna-a"]
    assert usernames(f"actor={anna.pk}") == ["anna-a", "anna-a"]
    today = timezone.now().date()
    assert len(usernames(f"from={today}&to={today}")) == 3
    assert usernames(f"to={today - timedelta(days=1)}") == []
    assert admin_client_api.get("/api/v1/audit-log/?action=nope").status_code == 400
    assert (
        admin_client_api.get("/api/v1/audit-log/?from=2026-02-02&to=2026-01-01").status_code == 400
    )


def test_the_audit_log_api_reads_a_record_in_full(admin_client_api):
    audit_record(
        action=AuditAction.CHANNEL_CHANGED,
        actor=AuditActor(address="192.0.2.5"),
        target_type="channel",
        target_id=7,
        details={"config_keys": ["secret"]},
    )

    [row] = admin_client_api.get("/api/v1/audit-log/").json()["results"]

    assert row["action"] == "channel_changed"
    assert row["actor"] is None
    assert row["client_address"] == "192.0.2.5"
    assert (row["target_type"], row["target_id"]) == ("channel", "7")
    assert row["details"] == {"config_keys": ["secret"]}
    assert row["created_at"]


def test_the_audit_log_list_costs_the_same_queries_whatever_the_page_holds(admin_client_api):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client_api.get("/api/v1/audit-log/?page_size=100")
        assert response.status_code == 200
        return len(captured)

    actor = UserFactory()
    audit_record(action=AuditAction.LOGIN, actor=AuditActor(user=actor))
    one = queries()
    for _ in range(30):
        audit_record(action=AuditAction.LOGIN, actor=AuditActor(user=UserFactory()))

    assert queries() == one


def test_the_admin_site_shows_the_log_read_only(client, admin_user, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    record = audit_record(action=AuditAction.CUSTOMER_ERASED, actor=AuditActor(user=admin_user))
    client.force_login(admin_user)

    listing = client.get("/admin/inbox/auditrecord/?action__exact=customer_erased")
    detail = client.get(f"/admin/inbox/auditrecord/{record.pk}/change/")
    deleting = client.post(f"/admin/inbox/auditrecord/{record.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200 and str(record.pk) in listing.content.decode()
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert deleting.status_code == 403
    assert client.get("/admin/inbox/auditrecord/add/").status_code == 403
    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_a_role_change_in_the_admin_site_is_recorded(client, admin_user):
    operator = UserFactory(username="olga")
    client.force_login(admin_user)
    response = client.get(f"/admin/inbox/user/{operator.pk}/change/")
    form = response.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update(
        {
            "role": "supervisor",
            "date_joined_0": operator.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": operator.date_joined.strftime("%H:%M:%S"),
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)

    client.post(f"/admin/inbox/user/{operator.pk}/change/", data)

    operator.refresh_from_db()
    assert operator.role == Role.SUPERVISOR
    [record] = records(AuditAction.OPERATOR_CHANGED)
    assert record.details["role"] == {"from": "operator", "to": "supervisor"}
    assert record.details["via"] == "admin"


def test_a_customer_name_is_not_on_the_log_of_a_merge():
    survivor, merged = CustomerFactory(name="Zed Secretname"), CustomerFactory()
    from inbox.services import customer_merge_with_conversations

    customer_merge_with_conversations(survivor=survivor, merged=merged, merged_by=None)

    [record] = records(AuditAction.CUSTOMER_MERGED)
    assert "Secretname" not in str(record.details)
    assert Customer.objects.get(pk=merged.pk).merged_into_id == survivor.pk
