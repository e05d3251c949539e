"""``python -m bench state|state-model|web|import [options]`` (``make bench-state``, ``make
bench-web``, ``make bench-import``; ``state-model`` is the model of the state day's order):
Django is set up first, then the benchmark's module runs. ``manage.py bench_regeneration`` is
the district benchmark (``make bench``)."""

from __future__ import annotations

import importlib
import os
import sys

COMMANDS = {
    "state": "bench.state",
    "state-model": "bench.state_model",
    "web": "bench.web",
    "import": "bench.roster",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m bench {{{','.join(COMMANDS)}}} [options]", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ncedcloud.settings")
    import django

    django.setup()
    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
