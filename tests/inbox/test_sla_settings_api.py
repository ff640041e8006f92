"""Admins keep calendars of business hours and SLA policies through the API; what cannot
be kept is refused with a 400 that says why, and nothing is stored."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.models import BusinessHours, SlaPolicy

WEEKLY = {"mon": [["14:00", "18:00"], ["09:00", "13:00"]], "fri": [["09:00", "17:00"]]}


def create_calendar(client, **overrides):
    body = {"name": "Office", "timezone": "Europe/Warsaw", "weekly": WEEKLY, **overrides}
    return client.post("/api/v1/business-hours/", body, format="json")


@pytest.mark.django_db
def test_an_admin_creates_a_calendar_with_a_lunch_break_and_holidays(admin_client_api):
    response = create_calendar(
        admin_client_api, holidays=["2026-12-24", "2026-05-01"], yearly_holidays=["12-25"]
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Office"
    assert body["timezone"] == "Europe/Warsaw"
    assert body["weekly"] == {
        "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
        "fri": [["09:00", "17:00"]],
    }
    assert body["holidays"] == ["2026-05-01", "2026-12-24"]
    assert body["yearly_holidays"] == ["12-25"]
    assert admin_client_api.get(f"/api/v1/business-hours/{body['id']}/").json() == body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("timezone", "Mars/Olympus", "IANA"),
        ("timezone", "", ""),
        ("weekly", {"mon": [["9:00", "18:00"]]}, "HH:MM"),
        ("weekly", {"mon": [["09:00", "24:30"]]}, "HH:MM"),
        ("weekly", {"mon": [["18:00", "09:00"]]}, "starts after it ends"),
        ("weekly", {"mon": [["09:00", "09:00"]]}, "starts after it ends"),
        ("weekly", {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}, "overlap"),
        ("weekly", {"monday": [["09:00", "18:00"]]}, "not a day"),
        ("weekly", {"mon": "09:00-18:00"}, "intervals"),
        ("weekly", {"mon": [["09:00"]]}, "interval"),
        ("weekly", ["mon"], "object"),
        ("holidays", ["2026-02-30"], "YYYY-MM-DD"),
        ("holidays", "2026-12-24", "list"),
        ("yearly_holidays", ["13-01"], "MM-DD"),
        ("yearly_holidays", [12], "MM-DD"),
    ],
)
def test_a_calendar_that_cannot_be_kept_is_refused_and_nothing_is_stored(
    admin_client_api, field, value, says
):
    response = create_calendar(admin_client_api, **{field: value})

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert field in body["fields"]
    assert says in body["detail"]
    assert not BusinessHours.objects.exists()


@pytest.mark.django_db
def test_a_calendar_in_use_is_not_deleted(admin_client_api):
    calendar = create_calendar(admin_client_api).json()
    admin_client_api.post(
        "/api/v1/sla-policies/",
        {"name": "Office hours", "first_response_minutes": 60, "business_hours": calendar["id"]},
        format="json",
    )

    response = admin_client_api.delete(f"/api/v1/business-hours/{calendar['id']}/")

    assert response.status_code == 400
    assert "business_hours" in response.json()["fields"]
    assert BusinessHours.objects.filter(pk=calendar["id"]).exists()


@pytest.mark.django_db
def test_an_admin_creates_and_changes_a_policy(admin_client_api, channel, team):
    calendar = create_calendar(admin_client_api).json()
    policy = {
        "name": "Urgent",
        "first_response_minutes": 15,
        "next_response_minutes": 30,
        "resolution_minutes": 480,
        "business_hours": calendar["id"],
        "channels": [channel.pk],
        "teams": [team.pk],
        "priorities": ["urgent", "high", "urgent"],
        "position": 1,
    }
    response = admin_client_api.post("/api/v1/sla-policies/", policy, format="json")
    assert response.status_code == 201
    body = response.json()
    kept = {key: body[key] for key in body if key not in ("id", "created_at", "updated_at")}
    assert kept == {**policy, "priorities": ["high", "urgent"]}

    changed = admin_client_api.patch(
        f"/api/v1/sla-policies/{body['id']}/", {"business_hours": None}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["business_hours"] is None
    assert admin_client_api.get("/api/v1/sla-policies/").json()[0]["id"] == body["id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_response_minutes", 0),
        ("resolution_minutes", -5),
        ("business_hours", 999999),
        ("channels", [999999]),
        ("teams", [999999]),
        ("priorities", ["whenever"]),
        ("position", -1),
    ],
)
def test_a_policy_that_cannot_be_kept_is_refused(admin_client_api, field, value):
    response = admin_client_api.post(
        "/api/v1/sla-policies/", {"name": "Broken", field: value}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not SlaPolicy.objects.exists()


@pytest.mark.django_db
def test_two_policies_of_one_name_are_refused(admin_client_api):
    admin_client_api.post("/api/v1/sla-policies/", {"name": "Same"}, format="json")
    response = admin_client_api.post("/api/v1/sla-policies/", {"name": "Same"}, format="json")
    assert response.status_code == 400
    assert SlaPolicy.objects.count() == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["mon", "sun", "x", ""]), children, max_size=3)
    ),
    max_leaves=12,
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(weekly=json_values, holidays=json_values, yearly=json_values, zone=json_values)
def test_whatever_an_admin_sends_is_never_a_server_error(
    admin_client_api, weekly, holidays, yearly, zone
):
    response = create_calendar(
        admin_client_api, weekly=weekly, holidays=holidays, yearly_holidays=yearly, timezone=zone
    )
    assert response.status_code in (201, 400)
    BusinessHours.objects.all().delete()


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    values=st.fixed_dictionaries(
        {},
        optional={
            "first_response_minutes": json_values,
            "business_hours": json_values,
            "channels": json_values,
            "teams": json_values,
            "priorities": json_values,
            "position": json_values,
        },
    )
)
def test_whatever_an_admin_sends_as_a_policy_is_never_a_server_error(admin_client_api, values):
    response = admin_client_api.post(
        "/api/v1/sla-policies/", {"name": "Fuzzed", **values}, format="json"
    )
    assert response.status_code in (201, 400)
    SlaPolicy.objects.all().delete()
