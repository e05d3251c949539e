"""Tooling shared by the tests, the benchmark and the drills; never imported by the apps."""
