"""HTTPS is enforced when the site is served over it, bodies are bounded before anyone
is authenticated, and the product's pages run scripts from this site only."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from config.request_limits import public_body_limit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def settings_for(public_base_url: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SECURE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        PUBLIC_BASE_URL=public_base_url,
        SECRET_KEY="not-used-here",
    )
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({name: "
        "getattr(s, name, None) for name in ('SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
        "'SECURE_REDIRECT_EXEMPT')}))"
    )
    started = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return json.loads(started.stdout.strip().splitlines()[-1])


def test_an_https_site_redirects_to_https_and_asks_browsers_to_stay(client, settings):
    https_settings = settings_for("https://desk.example.com")
    assert https_settings["SECURE_SSL_REDIRECT"] is True
    assert https_settings["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    for name, value in https_settings.items():
        setattr(settings, name, value)

    plain = client.get("/login/")
    secure = client.get("/login/", secure=True)
    health = client.get("/healthz/")

    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    assert "max-age=31536000" in secure["Strict-Transport-Security"]
    assert health.status_code != 301


def test_a_plain_http_site_neither_redirects_nor_pins():
    http_settings = settings_for("http://127.0.0.1:8000")

    assert not http_settings["SECURE_SSL_REDIRECT"]
    assert not http_settings["SECURE_HSTS_SECONDS"]


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/login/", "application/x-www-form-urlencoded"),
        ("/api/v1/customers/", "application/json"),
        ("/survey/some-token/", "application/x-www-form-urlencoded"),
    ],
)
def test_a_large_body_is_refused_before_anyone_is_authenticated(client, path, content_type):
    response = client.post(path, data=b"x" * (3 * 1024 * 1024), content_type=content_type)

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_the_asgi_edge_bounds_every_body_not_only_the_public_endpoints(settings):
    assert public_body_limit({"path": "/login/"}) == settings.REQUEST_MAX_BODY_BYTES
    assert public_body_limit({"path": "/api/v1/customers/"}) == settings.REQUEST_MAX_BODY_BYTES
    # Replies may carry ten files of 25 MB.
    assert public_body_limit({"path": "/api/v1/conversations/7/messages/"}) > 250 * 1024 * 1024
    assert public_body_limit({"path": "/webhooks/api/x/"}) == settings.WEBHOOK_MAX_BODY_BYTES


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def script_policy(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(part for part in policy.split(";") if part.strip().startswith("script-src"))


def test_the_products_pages_run_scripts_from_this_site_only(client, operator):
    for response in (client.get("/login/"), page_client(operator).get("/")):
        assert response.status_code == 200
        assert script_policy(response).split() == ["script-src", "'self'"]


def test_the_pages_hold_no_inline_script_the_policy_would_block(operator, supervisor):
    pages = [
        page_client(operator).get("/").content.decode(),
        page_client(supervisor).get("/reports/csat/").content.decode(),
        page_client(supervisor).get("/settings/").content.decode(),
    ]
    for page in pages:
        for tag in re.findall(r"<script\b[^>]*>", page):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"\son[a-z]+=", page)


def test_the_admin_keeps_its_own_rules(client):
    assert "Content-Security-Policy" not in client.get("/admin/login/")
