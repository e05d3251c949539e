"""What import-linter cannot check (``pyproject.toml`` holds its contracts): no module of an
installed app imports the test libraries, ``django.test`` included."""

from __future__ import annotations

import ast

import pytest

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
