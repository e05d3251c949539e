"""``manage.py bench_regeneration --students N [--json PATH]``: the district-scale benchmark
(its command lives here; ``regeneration`` keeps a shim so that ``manage.py`` finds it).

It needs PostgreSQL (and, for the 1-against-2-workers figures, a Redis broker in
CELERY_BROKER_URL). What each figure means is in the README ("Benchmark").
"""

from __future__ import annotations

import argparse
import json
import signal
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from regeneration.models import RegenerationRequest

from . import data, measure

KINDS = (
    # name, reset current passwords, force password change
    ("default_only", False, False),
    ("reset", True, False),
    ("reset_force", True, True),
)
TARGETS = (
    # figure, what it is compared with, at least (>=) or at most (<=) this
    ("default_only_vs_floor", ">=", 0.7),
    ("default_only_vs_floor_lanes", ">=", 0.8),
    ("default_only_vs_naive", ">=", 10.0),
    ("reset_force_vs_default_only", ">=", 0.7),
    ("peak_rss_n_vs_tenth", "<=", 1.25),
    ("request_p95_ms", "<", 150.0),
    ("confirm_p95_ms", "<", 150.0),
    ("count_p95_ms", "<", 500.0),
    ("handout_csv_seconds", "<", 10.0),
    ("uid_file_validation_seconds", "<", 10.0),
    ("uid_file_peak_rss_n_vs_tenth", "<=", 1.25),
    ("handout_csv_peak_rss_n_vs_tenth", "<=", 1.25),
    ("file_request_vs_default_only", ">=", 0.8),
    ("undo_vs_default_only", ">=", 0.8),
    ("single_user_p95_seconds", "<", 2.0),
    ("people_signed_in_filter_p95_ms", "<", 300.0),
)


def _int_list(raw: str) -> list[int]:
    return [int(value) for value in raw.split(",") if value.strip()]


class Command(BaseCommand):
    help = (
        "Measure a district-wide regeneration against the database's own limit: naive "
        "save() per student, COPY + UPDATE floor, our request (default only, reset, reset + "
        "force), peak memory at N and N/10, queries per chunk, page round trips, and with "
        "full-strength hashing 1 Celery worker against 2. PostgreSQL only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, help="students in the benchmark PSU")
        parser.add_argument("--json", type=Path, help="also write the figures to this file")
        parser.add_argument(
            "--naive-sample", type=int, default=2000, help="students the naive baseline writes"
        )
        parser.add_argument(
            "--floor-chunk-size",
            type=int,
            default=5000,
            help="rows per COPY + UPDATE transaction of the floor (default 5000)",
        )
        parser.add_argument(
            "--repeats", type=int, default=30, help="timed rounds of each page (default 30)"
        )
        parser.add_argument(
            "--chunk-sizes",
            type=_int_list,
            default=[500, 1000, 2000, 5000],
            help="chunk sizes for queries per chunk and throughput (comma-separated); "
            "REGENERATION_CHUNK_SIZE is always added",
        )
        parser.add_argument(
            "--hash-students",
            type=int,
            default=400,
            help="students of the full-strength hashing run (0 skips it; needs a broker)",
        )
        parser.add_argument(
            "--hash-workers",
            type=_int_list,
            default=[1, 2],
            help="worker processes to compare when hashing at request time (default 1,2)",
        )
        # Internal: the fresh process that runs one request for the benchmark.
        parser.add_argument("--child-run-request", type=int, help=argparse.SUPPRESS)
        parser.add_argument("--child-handout-csv", type=int, help=argparse.SUPPRESS)
        parser.add_argument("--child-uid-file", type=int, help=argparse.SUPPRESS)
        parser.add_argument("--child-extra", type=int, help=argparse.SUPPRESS)
        parser.add_argument(
            "--single-user-requests",
            type=int,
            default=20,
            help="single-user requests timed on a real worker (0 skips them; needs a broker)",
        )
        parser.add_argument("--child-result", type=Path, help=argparse.SUPPRESS)

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_regeneration measures PostgreSQL (COPY, UPDATE ... FROM, its planner); "
                f"this database is {connection.vendor}. Set DATABASE_URL=postgres://..."
            )
        if options["child_run_request"]:
            result = measure.child_run_request(request_id=options["child_run_request"])
            options["child_result"].write_text(json.dumps(result))
            return
        if options["child_uid_file"]:
            result = measure.child_uid_file(
                psu_id=options["child_extra"], permille=options["child_uid_file"]
            )
            options["child_result"].write_text(json.dumps(result))
            return
        if options["child_handout_csv"]:
            result = measure.child_handout_csv(request_id=options["child_handout_csv"])
            options["child_result"].write_text(json.dumps(result))
            return
        if not options["students"] or options["students"] < 10:
            raise CommandError("--students N is required, at least 10.")
        previous_handler = signal.signal(signal.SIGTERM, _interrupt)
        try:
            figures = self._run(options)
        finally:
            signal.signal(signal.SIGTERM, previous_handler)
        self._print(figures)
        if options["json"]:
            options["json"].write_text(json.dumps(figures, indent=2) + "\n")
            self.stdout.write(f"Figures written to {options['json']}")

    def _run(self, options) -> dict:
        removed = data.bench_leftovers_remove()
        if removed:
            self._say(f"Removed {removed} benchmark PSU(s) left by an earlier, killed run.")
        children: list = []
        bench_data = data.BenchData(admin=data.bench_admin_create())
        try:
            return self._measure(bench_data, options, children)
        finally:
            for child in list(children):
                measure.stop_process(child)
            self._say("Removing the benchmark's data ...")
            data.bench_data_remove(bench_data)

    def _measure(self, bench_data: data.BenchData, options, children: list) -> dict:
        n = options["students"]
        figures: dict = {
            "students": n,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "chunk_size": settings.REGENERATION_CHUNK_SIZE,
            "parallel_chunks": settings.REGENERATION_PARALLEL_CHUNKS,
            "floor_chunk_size": options["floor_chunk_size"],
            "machine": measure.machine_info(),
        }
        self._say(f"Creating a benchmark PSU of {n:,} students ...")
        psu = data.bench_psu_create(admin=bench_data.admin, students=n, label=f"{n} students")
        bench_data.psus.append(psu)
        figures["campuses"] = len(psu.campus_codes)
        self._say("Rewriting every student twice, so that no timed pass grows the table ...")
        data.students_rewrite([psu])
        self._say("Pages: Request, confirm page, Confirm, and the count ...")
        data.tables_settle()
        figures.update(measure.measure_pages(psu, bench_data.admin, repeats=options["repeats"]))
        # The floor runs right before our requests, so that a change in the machine's load
        # between them skews the ratios as little as possible.
        figures.update(self._reference_points(psu, options))
        figures.update(self._our_requests(psu, bench_data.admin, children))
        figures.update(self._siblings(psu, bench_data.admin, figures, options, children))
        figures.update(self._handouts(psu, bench_data.admin, figures, options, children))
        figures.update(self._chunk_sweep(psu, bench_data.admin, options))
        figures.update(self._hashed(bench_data, options, children))
        figures.update(_ratios(figures))
        figures["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        figures["load_average_after"] = measure.machine_info()["load_average"]
        return figures

    def _reference_points(self, psu: data.BenchPSU, options) -> dict:
        data.tables_settle()
        self._say("Naive baseline: save() per student ...")
        sample = min(psu.students // 2, options["naive_sample"])
        naive = measure.measure_naive(psu, sample=sample)
        atomic = measure.measure_naive(psu, sample=sample, skip=sample, atomic=True)
        self._say("Floor: COPY into a temporary table + UPDATE ... FROM ...")
        data.tables_settle()
        floor = measure.measure_floor(psu, chunk_size=options["floor_chunk_size"])
        lanes = settings.REGENERATION_PARALLEL_CHUNKS
        self._say(f"Floor at {lanes} lanes, as many as our request runs ...")
        data.tables_settle()
        floor_lanes = measure.measure_floor(
            psu, chunk_size=options["floor_chunk_size"], lanes=lanes
        )
        return {
            "naive_per_s": naive["per_s"],
            "naive_one_transaction_per_s": atomic["per_s"],
            "naive_sample": naive["students"],
            "floor_per_s": floor["per_s"],
            "floor_lanes_per_s": floor_lanes["per_s"],
        }

    def _our_requests(self, psu: data.BenchPSU, admin, children: list) -> dict:
        """Each kind of request over the whole PSU and over a tenth of its campuses, each in
        a fresh process."""
        tenth = psu.campus_share(0.1)
        runs = {}
        for scope, codes in (("", None), ("_tenth", tenth)):
            for name, reset, force in KINDS:
                self._say(f"Our request, {name.replace('_', ' ')}{scope.replace('_', ' ')} ...")
                data.tables_settle()
                runs[name + scope] = measure.measure_request(
                    psu, admin, reset=reset, force=force, campus_codes=codes, children=children
                )
        figures = {"tenth_students": runs["default_only_tenth"]["students"]}
        figures["reset_force_request_id"] = runs["reset_force"]["request_id"]
        figures["reset_force_tenth_request_id"] = runs["reset_force_tenth"]["request_id"]
        for name, _, _ in KINDS:
            figures[f"{name}_per_s"] = runs[name]["per_s"]
            figures[f"{name}_seconds"] = runs[name]["seconds"]
            figures[f"{name}_peak_rss_mb"] = runs[name]["peak_rss_mb"]
            figures[f"{name}_peak_rss_mb_tenth"] = runs[name + "_tenth"]["peak_rss_mb"]
        figures["peak_rss_mb"] = max(runs[name]["peak_rss_mb"] for name, _, _ in KINDS)
        figures["peak_rss_mb_tenth"] = max(
            runs[name + "_tenth"]["peak_rss_mb"] for name, _, _ in KINDS
        )
        figures["rss_before_task_mb"] = runs["default_only"]["rss_before_mb"]
        return figures

    def _siblings(self, psu: data.BenchPSU, admin, figures: dict, options, children) -> dict:
        """The file request and the undo beside the PSU request, a UID file checked, and
        single-user requests on a real worker."""
        self._say("A UID file of every student, checked (and one of a tenth) ...")
        uid = measure.measure_uid_file(psu, children=children)
        uid_tenth = measure.measure_uid_file(psu, children=children, share=0.1)
        self._say("The undo of the whole-PSU reset + force request ...")
        data.tables_settle()
        undone = RegenerationRequest.objects.get(pk=figures["reset_force_request_id"])
        undo = measure.measure_request(
            psu, admin, reset=True, force=True, undo_of=undone, children=children
        )
        self._say("Our request, a file of every student's UID ...")
        data.tables_settle()
        listed = measure.measure_request(
            psu,
            admin,
            reset=False,
            force=False,
            student_ids=data.student_ids(psu),
            children=children,
        )
        result = {
            "uid_file_lines": uid["lines"],
            "uid_file_validation_seconds": uid["seconds"],
            "uid_file_peak_rss_mb": uid["peak_rss_mb"],
            "uid_file_peak_rss_mb_tenth": uid_tenth["peak_rss_mb"],
            "file_request_per_s": listed["per_s"],
            "file_request_vs_default_only": listed["per_s"] / figures["default_only_per_s"],
            # Students handled (given back, or left alone as changed since) per second.
            "undo_per_s": undo["handled_per_s"],
            "undo_restored": undo["students"],
            "undo_left_alone": undo["skipped"],
            "undo_vs_default_only": undo["handled_per_s"] / figures["default_only_per_s"],
        }
        if settings.CELERY_TASK_ALWAYS_EAGER or not options["single_user_requests"]:
            return {**result, "single_user_p95_seconds": None}
        self._say("Single-user requests on a real worker ...")
        return {
            **result,
            **measure.measure_single_user(
                psu, admin, requests=options["single_user_requests"], children=children
            ),
        }

    def _handouts(self, psu: data.BenchPSU, admin, figures: dict, options, children) -> dict:
        """The CSV handout of the whole-PSU reset + force request, and People filtered by
        "Signed in since the last reset"."""
        self._say("Handout CSV of the whole PSU, in a fresh process ...")
        csv = measure.measure_handout_csv(figures["reset_force_request_id"], children=children)
        tenth = measure.measure_handout_csv(
            figures["reset_force_tenth_request_id"], children=children
        )
        if csv["status"] != 200 or csv["rows"] != psu.students:
            raise RuntimeError(f"The handout CSV went wrong: {csv}")
        self._say("People filtered by signed in since the last reset ...")
        data.tables_settle()
        people = measure.measure_people_filter(psu, admin, repeats=options["repeats"])
        return {
            "handout_csv_seconds": csv["seconds"],
            "handout_csv_peak_rss_mb": csv["peak_rss_mb"],
            "handout_csv_peak_rss_mb_tenth": tenth["peak_rss_mb"],
            "handout_csv_rss_before_mb": csv["rss_before_mb"],
            "handout_csv_rows": csv["rows"],
            "handout_csv_hashes": csv["hashes"],
            **people,
        }

    def _chunk_sweep(self, psu: data.BenchPSU, admin, options) -> dict:
        chunk_size = settings.REGENERATION_CHUNK_SIZE
        sizes = sorted({*options["chunk_sizes"], chunk_size})
        self._say(f"Queries per chunk at chunk sizes {sizes} ...")
        sweep = measure.measure_chunk_sizes(
            psu, admin, sizes=sizes, campus_codes=psu.campus_share(0.1)
        )
        per_size = {row["chunk_size"]: row["queries_per_chunk_max"] for row in sweep}
        return {
            "chunk_size_sweep": sweep,
            "queries_per_chunk": per_size[chunk_size],
            "queries_per_chunk_constant": all(
                row["queries_per_chunk_min"] == row["queries_per_chunk_max"] == per_size[chunk_size]
                for row in sweep
            ),
        }

    def _hashed(self, bench_data: data.BenchData, options, children: list) -> dict:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return {"hashed": None, "hashed_skipped": "no CELERY_BROKER_URL: real workers need one"}
        if not options["hash_students"]:
            return {"hashed": None, "hashed_skipped": "--hash-students 0"}
        n = options["hash_students"]
        self._say(f"Full-strength hashing at request time, {n} students ...")
        psu = data.bench_psu_create(admin=bench_data.admin, students=n, label="hashed", seed=2)
        bench_data.psus.append(psu)
        return {
            "hashed": measure.measure_hashed_workers(
                psu, bench_data.admin, worker_counts=options["hash_workers"], children=children
            )
        }

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _print(self, f: dict) -> None:
        m = f["machine"]
        lines = [
            "",
            f"bench_regeneration: {f['students']:,} students in {f['campuses']} campuses, "
            f"chunk size {f['chunk_size']:,}",
            f"machine: {m['nproc']} x {m['cpu_model']}, {m['ram_gb']} GB RAM, PostgreSQL "
            f"{m['postgresql']}, Python {m['python']}, load average before {m['load_average']}"
            f" after {f['load_average_after']}",
            "",
            f"{'figure':<50} {'value':>14}",
            f"{'-' * 50} {'-' * 14}",
        ]
        rows = [
            (
                f"naive save() per student, autocommit ({f['naive_sample']:,}), students/s",
                "naive_per_s",
            ),
            (
                "naive save() per student, one transaction, students/s",
                "naive_one_transaction_per_s",
            ),
            (
                f"floor: COPY + UPDATE ... FROM, chunks of {f['floor_chunk_size']:,}, students/s",
                "floor_per_s",
            ),
            (
                f"floor at {f['parallel_chunks']} lanes, as our request runs, students/s",
                "floor_lanes_per_s",
            ),
            ("our request, default only, students/s", "default_only_per_s"),
            ("our request, reset, students/s", "reset_per_s"),
            ("our request, reset + force, students/s", "reset_force_per_s"),
            (f"peak RSS of the task process at N ({f['students']:,}), MB", "peak_rss_mb"),
            (
                f"peak RSS of the task process at N/10 ({f['tenth_students']:,}), MB",
                "peak_rss_mb_tenth",
            ),
            ("  (RSS of that process before the task ran, MB)", "rss_before_task_mb"),
            ("queries per chunk", "queries_per_chunk"),
            ("Request (form POST) p50 ms", "request_p50_ms"),
            ("Request (form POST) p95 ms", "request_p95_ms"),
            ("confirm page (GET, with counts) p50 ms", "confirm_page_p50_ms"),
            ("confirm page (GET, with counts) p95 ms", "confirm_page_p95_ms"),
            ("Confirm (POST) p50 ms", "confirm_p50_ms"),
            ("Confirm (POST) p95 ms", "confirm_p95_ms"),
            ("confirm page's count (match_counts) p50 ms", "count_p50_ms"),
            ("confirm page's count (match_counts) p95 ms", "count_p95_ms"),
            (f"handout CSV of N ({f['handout_csv_rows']:,} rows), seconds", "handout_csv_seconds"),
            ("  peak RSS of that process, MB", "handout_csv_peak_rss_mb"),
            ("  the same for the N/10 request's CSV, MB", "handout_csv_peak_rss_mb_tenth"),
            ("  (RSS of that process before the download, MB)", "handout_csv_rss_before_mb"),
            ("  password hashes made", "handout_csv_hashes"),
            ("People, signed in since the last reset = yes, p95 ms", "people_signed_in_yes_p95_ms"),
            ("People, signed in since the last reset = no, p95 ms", "people_signed_in_no_p95_ms"),
            ("  password hashes made", "people_filter_hashes"),
            (
                f"UID file of {f['uid_file_lines']:,} lines checked, seconds",
                "uid_file_validation_seconds",
            ),
            ("  peak RSS of that process, MB", "uid_file_peak_rss_mb"),
            ("  the same for a tenth of the lines, MB", "uid_file_peak_rss_mb_tenth"),
            ("our request, a file of every UID, students/s", "file_request_per_s"),
            ("our undo of the reset + force request, students/s", "undo_per_s"),
            ("single-user request, Confirm to Completed, p95 s", "single_user_p95_seconds"),
        ]
        lines += [f"{label:<50} {_fmt(f[key]):>14}" for label, key in rows]
        lines += [
            "",
            "queries per chunk at each chunk size (default only over N/10, one lane, queries",
            "captured; its students/s show per-chunk overhead, not the request's speed):",
            f"{'chunk size':>10} {'queries/chunk':>14} {'students/s':>12}",
        ]
        lines += [
            f"{row['chunk_size']:>10,} {_range(row):>14} {_fmt(row['per_s']):>12}"
            for row in f["chunk_size_sweep"]
        ]
        if f.get("hashed"):
            lines += ["", "full-strength hashing at request time (reset):"]
            lines += [
                f"  {row['workers']} worker process(es): {row['students']} students in "
                f"{row['seconds']:.1f} s = {row['per_s']:.2f} students/s"
                for row in f["hashed"]
            ]
        elif f.get("hashed_skipped"):
            lines += ["", f"full-strength hashing: skipped ({f['hashed_skipped']})"]
        lines += ["", f"{'target':<50} {'measured':>14}  met"]
        for name, op, bound in TARGETS:
            lines.append(
                f"{name + ' ' + op + ' ' + _fmt(bound):<50} {_fmt(f[name]):>14}  "
                f"{MET[f['targets_met'][name]]}"
            )
        lines.append(
            f"{'queries per chunk constant across chunk sizes':<50} "
            f"{'':>14}  {'yes' if f['queries_per_chunk_constant'] else 'NO'}"
        )
        lines.append(f"Confirm's dispatch during the page timings: {f['dispatch']}")
        self.stdout.write("\n".join(lines))


MET = {True: "yes", False: "NO", None: "skipped"}


def _ratios(f: dict) -> dict:
    ratios = {
        "default_only_vs_floor": f["default_only_per_s"] / f["floor_per_s"],
        # Against the floor at as many lanes as our request runs: the fair comparison.
        "default_only_vs_floor_lanes": f["default_only_per_s"] / f["floor_lanes_per_s"],
        # Against the faster of the two naive figures, so the margin is not flattered.
        "default_only_vs_naive": f["default_only_per_s"]
        / max(f["naive_per_s"], f["naive_one_transaction_per_s"]),
        "reset_force_vs_default_only": f["reset_force_per_s"] / f["default_only_per_s"],
        "peak_rss_n_vs_tenth": f["peak_rss_mb"] / f["peak_rss_mb_tenth"],
        # Memory flat: a file (a handout) ten times longer takes at most a quarter more.
        "uid_file_peak_rss_n_vs_tenth": f["uid_file_peak_rss_mb"] / f["uid_file_peak_rss_mb_tenth"],
        "handout_csv_peak_rss_n_vs_tenth": f["handout_csv_peak_rss_mb"]
        / f["handout_csv_peak_rss_mb_tenth"],
    }
    values = {**f, **ratios}
    met = {
        name: None
        if values.get(name) is None
        else (values[name] >= bound if op == ">=" else values[name] <= bound)
        if op in (">=", "<=")
        else values[name] < bound
        for name, op, bound in TARGETS
    }
    return {**ratios, "targets_met": met}


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _range(row: dict) -> str:
    low, high = row["queries_per_chunk_min"], row["queries_per_chunk_max"]
    return str(low) if low == high else f"{low}-{high}"


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # so that the benchmark's data is removed on SIGTERM too
