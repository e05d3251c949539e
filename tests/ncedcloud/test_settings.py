"""Production settings: refuse to start without real keys; pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from tests.conftest import ROOT

REAL_SECRET = "x7Qp2Vn9Lr4Ks8Wd1Fh6Jm3Tb5Yc0Ze7Ua2Io9Pe4Rs6Dg8Hk1Lq3Mw5Nx7Bv0Cz"
REAL_KEY = Fernet.generate_key().decode()
DEVELOPMENT_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS1ub3Qtc2VjcmV0ISE="


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DEFAULT_PASSWORD_KEYS", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_settings_refuse_to_start_without_secret_key_outside_debug():
    result = run_manage("check", DEBUG="False", DEFAULT_PASSWORD_KEYS=REAL_KEY)

    assert result.returncode != 0
    assert "Refusing to start with DEBUG off" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_settings_refuse_to_start_without_encryption_keys_outside_debug():
    result = run_manage("check", DEBUG="False", SECRET_KEY=REAL_SECRET)

    assert result.returncode != 0
    assert "DEFAULT_PASSWORD_KEYS must list one or more Fernet keys" in result.stderr


def test_settings_refuse_the_published_development_key_outside_debug():
    result = run_manage(
        "check",
        DEBUG="False",
        SECRET_KEY=REAL_SECRET,
        DEFAULT_PASSWORD_KEYS=f"{REAL_KEY},{DEVELOPMENT_KEY}",
    )

    assert result.returncode != 0
    assert "not the development key" in result.stderr


def test_settings_name_a_malformed_encryption_key_by_position():
    result = run_manage("check", DEFAULT_PASSWORD_KEYS=f"{REAL_KEY},not-a-key")

    assert result.returncode != 0
    assert "DEFAULT_PASSWORD_KEYS entry 2 is not a Fernet key" in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY=REAL_SECRET,
        DEFAULT_PASSWORD_KEYS=REAL_KEY,
        ALLOWED_HOSTS="portal.example.org",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_migrations_are_complete():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
