"""What import-linter cannot check (``pyproject.toml`` holds its contracts): no module of an
installed app imports the test libraries, ``django.test`` included."""

from __future__ import annotations

import ast

import pytest
from django.db import connection

from tests.conftest import ROOT

APPS = ("ncedcloud", "credentials", "people", "catalog", "regeneration")
TEST_LIBRARIES = ("unittest", "django.test", "pytest")


def imported_modules(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_the_checker_sees_a_test_library_imported():
    assert imported_modules("from django.test import Client\nimport unittest.mock") == {
        "django.test",
        "unittest.mock",
    }


@pytest.mark.parametrize("app", APPS)
def test_no_module_of_an_installed_app_imports_a_test_library(app):
    offenders = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for module in imported_modules(path.read_text()):
            if any(module == lib or module.startswith(f"{lib}.") for lib in TEST_LIBRARIES):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="reads PostgreSQL's catalog of constraints"
)
@pytest.mark.django_db
def test_every_foreign_key_column_leads_an_index():
    """Removing a referenced row (a student, a request) checks every foreign key to it: a
    column no index leads makes each check a scan of the whole table (a PSU's removal after
    a file request of its 160,000 students did not finish in 13 minutes)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]
            )
            """
        )
        unindexed = sorted(cursor.fetchall())

    assert unindexed == []
