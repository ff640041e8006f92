"""An operator's own language: set through operators/me/, kept, and their pages follow it;
without one, the browser's; the sign-in page speaks the browser's language."""

import pytest

from inbox.models import User

pytestmark = pytest.mark.django_db


def test_an_operator_reads_and_sets_their_own_language(operator_client, operator, admin_user):
    assert operator_client.get("/api/v1/operators/me/").json()["language"] == ""

    response = operator_client.patch("/api/v1/operators/me/", {"language": "ru"}, format="json")

    assert response.status_code == 200
    me = response.json()
    assert (me["id"], me["username"], me["language"]) == (operator.pk, operator.username, "ru")
    assert User.objects.get(pk=operator.pk).language == "ru"
    assert User.objects.get(pk=admin_user.pk).language == ""  # nobody else's
    assert operator_client.get("/api/v1/operators/me/").json()["language"] == "ru"


@pytest.mark.parametrize("language", ["de", "russian", 7])
def test_a_language_the_product_does_not_speak_is_refused(operator_client, operator, language):
    response = operator_client.patch("/api/v1/operators/me/", {"language": language}, format="json")

    assert response.status_code == 400
    assert "language" in response.json()["fields"]
    assert User.objects.get(pk=operator.pk).language == ""


def test_the_role_is_not_a_personal_setting(operator_client, operator):
    operator_client.patch("/api/v1/operators/me/", {"role": "admin"}, format="json")

    assert User.objects.get(pk=operator.pk).role == operator.role


def test_operators_me_needs_a_signed_in_operator(client):
    assert client.get("/api/v1/operators/me/").status_code in (401, 403)


def test_the_sign_in_page_speaks_the_browsers_language(client):
    russian = client.get("/login/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9,en;q=0.5")
    polish = client.get("/login/", HTTP_ACCEPT_LANGUAGE="pl")
    german = client.get("/login/", HTTP_ACCEPT_LANGUAGE="de")

    assert '<html lang="ru">' in russian.content.decode()
    assert "Войдите в свой ящик обращений" in russian.content.decode()
    assert "Zaloguj się" in polish.content.decode()
    assert "Sign in to your inbox" in german.content.decode()  # the default, English


def test_a_signed_in_operators_choice_wins_over_the_browser(client, operator):
    operator.language = "pl"
    operator.save()
    client.force_login(operator)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="ru")

    assert page.status_code == 200
    assert page["Content-Language"] == "pl"
    assert '<html lang="pl">' in page.content.decode()


def test_the_inbox_scripts_api_errors_follow_the_operators_choice(client, operator):
    operator.language = "ru"
    operator.save()
    client.force_login(operator)

    response = client.post(
        "/api/v1/canned-responses/",
        {"shortcut": "x"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json()["fields"]["body"] == ["Обязательное поле."]
