"""``manage.py bench_regeneration``: the benchmark lives in the top-level ``bench`` package;
this shim only lets ``manage.py`` find its command (see the import-linter contract)."""

from bench.command import Command

__all__ = ["Command"]
