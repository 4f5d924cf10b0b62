"""Production settings are hardened (issue 6, item 3).

``mall.settings_production`` is imported in a fresh interpreter (settings are read once
per process) with the environment a deployment gives it: ``manage.py check --deploy``
passes at warning level, cookies are secure and HTTP-only, HSTS and the other security
headers are sent, plain http is redirected to https, and without ``DJANGO_SECRET_KEY``
the site refuses to start rather than run with a known key.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "shop.example.com"

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

names = [
    "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SECURE_CONTENT_TYPE_NOSNIFF",
    "X_FRAME_OPTIONS", "SECURE_PROXY_SSL_HEADER",
]
out = {"settings": {name: getattr(settings, name) for name in names}}
client = Client(HTTP_HOST="HOST_NAME")
plain = client.get("/accounts/login/")
out["http"] = {"status": plain.status_code, "location": plain.get("Location", "")}
secure = client.get("/accounts/login/", secure=True)
out["https"] = {
    "status": secure.status_code,
    "headers": {key.lower(): value for key, value in secure.items()},
    "cookies": {
        name: {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
               "samesite": morsel["samesite"]}
        for name, morsel in secure.cookies.items()
    },
}
print(json.dumps(out))
""".replace("HOST_NAME", HOST)


def run(args, **env_changes):
    """Run ``args`` with the production settings and ``env_changes`` (``None`` removes)."""
    # A deployment's environment: nothing the test run itself set (DJANGO_*, MALL_*…).
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "MALL_", "AXES_", "PYTEST", "HYPOTHESIS"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "mall.settings_production"
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_env():
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_ALLOWED_HOSTS": HOST}


def test_check_deploy_is_clean():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_would_catch_a_weak_key():
    """(The check above really checks: a short key fails it.)"""
    env = {**production_env(), "DJANGO_SECRET_KEY": "short"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    # Production serves hashed static files from a manifest: collect them first, as a
    # deployment does (the Dockerfile runs collectstatic), into a throwaway folder.
    static_root = str(tmp_path_factory.mktemp("static"))
    env = {**production_env(), "DJANGO_STATIC_ROOT": static_root}
    collected = run(["manage.py", "collectstatic", "--noinput", "-v", "0"], **env)
    assert collected.returncode == 0, collected.stderr
    result = run(["-c", PROBE], **env, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_debug_is_off_whatever_the_environment_says(probe):
    assert probe["settings"]["DEBUG"] is False


def test_cookies_and_headers_settings(probe):
    values = probe["settings"]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000  # a year
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_plain_http_is_sent_to_https(probe):
    assert probe["http"]["status"] == 301
    assert probe["http"]["location"] == f"https://{HOST}/accounts/login/"


def test_https_responses_carry_the_security_headers(probe):
    response = probe["https"]
    assert response["status"] == 200
    headers = response["headers"]
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    csrf = response["cookies"]["csrftoken"]
    assert csrf["secure"] and csrf["httponly"]


def test_no_secret_key_no_start():
    """DEBUG off and no ``DJANGO_SECRET_KEY``: startup refuses (both settings modules)."""
    result = run(["manage.py", "check"], DJANGO_ALLOWED_HOSTS=HOST)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr

    result = run(["manage.py", "check"], DJANGO_SETTINGS_MODULE="mall.settings", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr

    empty = run(["manage.py", "check"], DJANGO_SECRET_KEY="", DJANGO_ALLOWED_HOSTS=HOST)
    assert empty.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in empty.stderr
