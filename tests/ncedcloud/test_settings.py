"""Settings: DEBUG off unless set; refuse to start without real keys outside DEBUG, and with
the development keys for a host beyond this machine in DEBUG; pass Django's deploy checks."""

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
    result = run_manage("check", DEBUG="True", DEFAULT_PASSWORD_KEYS=f"{REAL_KEY},not-a-key")

    assert result.returncode != 0
    assert "DEFAULT_PASSWORD_KEYS entry 2 is not a Fernet key" in result.stderr


def test_debug_is_off_unless_set_so_nothing_starts_on_the_published_keys():
    result = run_manage("check")

    assert result.returncode != 0
    assert "Refusing to start with DEBUG off" in result.stderr
    assert "run `make run` or set DEBUG=True" in result.stderr


@pytest.mark.parametrize("hosts", ["portal.example.org", "127.0.0.1,portal.example.org", "*"])
def test_debug_with_the_development_keys_refuses_a_host_beyond_this_machine(hosts):
    result = run_manage("check", DEBUG="True", ALLOWED_HOSTS=hosts)

    assert result.returncode != 0
    remote = hosts.split(",")[-1]
    assert f"Refusing to start with DEBUG on for {remote} (ALLOWED_HOSTS)" in result.stderr
    assert "published development SECRET_KEY and DEFAULT_PASSWORD_KEYS" in result.stderr
    assert "For a real host set DEBUG=False" in result.stderr


def test_debug_with_the_development_keys_serves_this_machine():
    hosts = "127.0.0.1,localhost,[::1],testserver,portal.localhost"
    result = run_manage("check", DEBUG="True", ALLOWED_HOSTS=hosts)

    assert result.returncode == 0, result.stderr


def test_debug_for_a_real_host_starts_with_real_keys():
    result = run_manage(
        "check",
        DEBUG="True",
        ALLOWED_HOSTS="staging.example.org",
        SECRET_KEY=REAL_SECRET,
        DEFAULT_PASSWORD_KEYS=REAL_KEY,
    )

    assert result.returncode == 0, result.stderr


def test_make_run_turns_debug_on_for_every_command_it_runs(tmp_path):
    """``make run``'s own recipe, with a stand-in python that prints its DEBUG and arguments
    (and no install step): every manage.py command gets DEBUG=True."""
    stand_in = tmp_path / "python"
    stand_in.write_text('#!/bin/sh\necho "DEBUG=$DEBUG $*"\n')
    stand_in.chmod(0o755)
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "MAKEFLAGS", "MAKELEVEL"}}

    result = subprocess.run(
        ["make", "-s", "run", "STAMP=", f"BIN={tmp_path}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )

    commands = [line for line in result.stdout.splitlines() if "manage.py" in line]
    assert result.returncode == 0, result.stderr
    assert commands == [
        "DEBUG=True manage.py migrate --noinput",
        "DEBUG=True manage.py seed_demo",
        "DEBUG=True manage.py runserver 127.0.0.1:8000",
    ]


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
