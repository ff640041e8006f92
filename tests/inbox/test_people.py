from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inbox.models import Role, Team, User

pytestmark = pytest.mark.django_db


def test_create_operator_prints_a_working_token_last(capsys, client):
    call_command(
        "create_operator",
        "olga",
        "--role",
        "supervisor",
        "--password",
        "pa55word!",
        "--team",
        "VIP",
        "--print-token",
    )

    lines = capsys.readouterr().out.strip().splitlines()
    user = User.objects.get(username="olga")
    assert user.role == Role.SUPERVISOR
    assert list(user.teams.values_list("name", flat=True)) == ["VIP"]
    assert user.check_password("pa55word!")
    response = client.get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token {lines[-1]}")
    assert response.status_code == 200


def test_create_operator_refuses_a_taken_username():
    call_command("create_operator", "olga")
    with pytest.raises(CommandError, match="taken"):
        call_command("create_operator", "olga")


def test_admins_manage_operators_and_teams(admin_client_api, operator_client, team):
    created = admin_client_api.post(
        "/api/v1/operators/",
        {"username": "ben", "role": "operator", "password": "longenough1", "teams": [team.pk]},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["teams"] == [team.pk]
    assert "password" not in created.json()

    assert (
        operator_client.post("/api/v1/operators/", {"username": "eve"}, format="json").status_code
        == 403
    )
    assert (
        operator_client.post("/api/v1/teams/", {"name": "Sales"}, format="json").status_code == 403
    )
    assert (
        admin_client_api.post("/api/v1/teams/", {"name": "Sales"}, format="json").status_code == 201
    )
    usernames = {o["username"] for o in operator_client.get("/api/v1/operators/").json()["results"]}
    assert {"ben", "anna", "ada"} <= usernames


def test_canned_responses_round_trip(operator_client):
    created = operator_client.post(
        "/api/v1/canned-responses/",
        {"shortcut": "thanks", "body": "Thank you, {{customer.name}}!"},
        format="json",
    )
    assert created.status_code == 201
    listed = operator_client.get("/api/v1/canned-responses/").json()["results"]
    assert [c["shortcut"] for c in listed] == ["thanks"]
    duplicate = operator_client.post(
        "/api/v1/canned-responses/", {"shortcut": "thanks", "body": "again"}, format="json"
    )
    assert duplicate.status_code == 400


def test_create_operator_refused_leaves_no_team_behind(operator):
    with pytest.raises(CommandError, match="taken"):
        call_command(
            "create_operator", operator.username, "--team", "Night shift", stdout=StringIO()
        )

    assert not Team.objects.filter(name="Night shift").exists()
