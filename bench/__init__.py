"""The district-scale benchmark (``make bench``, ``manage.py bench_regeneration``): tooling
beside the apps, never inside them."""
