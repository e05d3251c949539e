"""Security headers, cookie flags and CSRF, with production settings where they differ."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from regeneration.models import RegenerationRequest
from tests.ncedcloud.test_settings import REAL_KEY, REAL_SECRET, run_manage

PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": REAL_SECRET,
    "DEFAULT_PASSWORD_KEYS": REAL_KEY,
    "ALLOWED_HOSTS": "portal.example.org",
}


def production_settings(*names: str) -> dict:
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run_manage("shell", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_httponly_and_same_site():
    values = production_settings(
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "SESSION_COOKIE_AGE",
    )

    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_AGE": 1800,
    }


def test_production_forces_https_with_hsts():
    values = production_settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "X_FRAME_OPTIONS",
        "SECURE_CONTENT_TYPE_NOSNIFF",
    )

    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and values["SECURE_HSTS_PRELOAD"]
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["SECURE_CONTENT_TYPE_NOSNIFF"]


@pytest.mark.django_db
def test_every_page_sends_a_content_security_policy_without_unsafe_inline(admin920_client):
    for url in ("/", reverse("regeneration:new"), reverse("regeneration:list"), reverse("login")):
        policy = admin920_client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.django_db
def test_every_page_denies_the_browser_features_no_page_uses(admin920_client, client):
    pages = [
        admin920_client.get("/"),
        admin920_client.get(reverse("people:list")),
        client.get(reverse("students:login")),
        client.get(reverse("login")),
        client.get("/no-such-page/"),
    ]

    for response in pages:
        policy = dict(item.split("=", 1) for item in response["Permissions-Policy"].split(", "))
        for feature in ("camera", "microphone", "geolocation", "payment", "usb", "fullscreen"):
            assert policy[feature] == "()", feature
        assert len(policy) >= 30 and set(policy.values()) == {"()"}


@pytest.mark.django_db
def test_no_template_holds_an_inline_script_or_style(admin920_client):
    for url in ("/", reverse("regeneration:new"), reverse("login")):
        body = admin920_client.get(url).text
        assert "<script>" not in body and "style=" not in body and "<style" not in body
        assert "onclick=" not in body and "onload=" not in body


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin920)

    response = client.post(reverse("regeneration:new"), {"psu_code": "920"})

    assert response.status_code == 403
    assert RegenerationRequest.objects.count() == 0
