"""The web tier under load (``make bench-web``, ``python -m bench web``): locust against
gunicorn, first while the workers are idle, then during a state day.

It makes a state (``bench.state.state_sizes``: ``--students`` in ``--psus`` PSUs), serves the
app with gunicorn on a free loopback port (production settings: DEBUG off, static files
collected, ``--web-workers`` workers of ``--web-threads`` threads, gunicorn.conf.py's as
docker-compose.yml serves them), starts ``--workers``
Celery worker processes and beat, and runs locust (``bench/locustfile.py``) with
``--pollers`` administrators polling their request's progress every 2 s and ``--browsers``
administrators opening People pages and confirm pages:

- ``idle``: for ``--idle-seconds``; each administrator polls a finished request of their PSU
  (recorded for the purpose: the workers have nothing to do);
- ``state_run``: from the first *Confirm* of a state day (every PSU's request confirmed
  within ``--submit-seconds``, as in ``bench.state``; each administrator's PSU's request
  confirmed by them) until the last request completed; each administrator polls their new
  request as soon as it is confirmed.

Figures per page: p50, p95, p99 and errors, counted over the phase's window only. Traffic
goes to 127.0.0.1 only, bounded in time (the phases) and so in requests (at most the users'
pace). PostgreSQL and Redis only; everything it makes is removed afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from catalog.models import RoleAssignment
from people.demo import LAST_NAMES
from people.models import User
from regeneration.models import RegenerationRequest
from tooling.worker import ROOT, session_priority_set

from . import data, measure, state

MARKER = "bench_web"
WEB_APP_NAME = f"{MARKER}-web"  # application_name of the web processes' connections
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# The CPU weights of a shared machine, as docker-compose.yml's cpu_shares set them: gunicorn
# at nice -10 (a weight of 9,548; the web's cpu_shares 8192), PostgreSQL and the rest at 0
# (1,024, every container's default), the Celery processes at nice 10 (110; cpu_shares 128).
WEB_NICE = -10
WORKER_NICE = 10
SPAWN_SECONDS = 3  # locust's users are all running after this; the idle window starts then
READY_SECONDS = 60
PAGES = ("progress", "people", "confirm", "request (form POST)")
TARGETS = (
    ("state_run.progress_p95_ms", "<", 100.0),
    ("state_run.people_p95_ms", "<", 300.0),
    ("idle.errors", "==", 0),
    ("state_run.errors", "==", 0),
)


# Staff and their sessions ---------------------------------------------------------------------


@dataclass
class Staff:
    pollers: list[tuple[User, data.BenchPSU, int]]  # who, their PSU, their earlier request
    browsers: list[tuple[User, data.BenchPSU]]

    @property
    def users(self) -> list[User]:
        return [user for user, *_ in self.pollers] + [user for user, _ in self.browsers]


def staff_create(made: state.State, *, pollers: int, browsers: int) -> Staff:
    """LEA administrators, each of one PSU: pollers over the PSUs from the largest down,
    browsers of the largest PSUs; each poller with a finished request of their PSU."""
    psus = made.psus
    poller_users = _admins("poller", [psus[i % len(psus)] for i in range(pollers)])
    browser_users = _admins("browser", [psus[i % len(psus)] for i in range(browsers)])
    yesterday = timezone.now() - timedelta(days=1)
    earlier = RegenerationRequest.objects.bulk_create(
        RegenerationRequest(
            requester=user,
            psu_id=psu.psu_id,
            comments=MARKER,
            confirmation_key=uuid.uuid4(),
            status=RegenerationRequest.Status.COMPLETED,
            queued_at=yesterday,
            dispatched_at=yesterday,
            started_at=yesterday,
            heartbeat_at=yesterday,
            finished_at=yesterday + timedelta(minutes=1),
            targeted_count=psu.students,
            processed_count=psu.students,
        )
        for user, psu in poller_users
    )
    return Staff(
        pollers=[
            (user, psu, request.pk)
            for (user, psu), request in zip(poller_users, earlier, strict=True)
        ],
        browsers=browser_users,
    )


def _admins(kind: str, psus: list[data.BenchPSU]) -> list[tuple[User, data.BenchPSU]]:
    users = User.objects.bulk_create(
        User(username=f"{MARKER}-{kind}-{i}", password="!" + secrets.token_urlsafe(30))
        for i in range(len(psus))
    )
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=user, role=RoleAssignment.Role.LEA_ADMIN, psu_id=psu.psu_id)
        for user, psu in zip(users, psus, strict=True)
    )
    return list(zip(users, psus, strict=True))


def sessions_create(users: list[User], *, secret_key: str) -> list[str]:
    """Signed-in sessions, as a sign-in makes them, under the web server's SECRET_KEY
    (which signs the session and its auth hash): the benchmark measures pages, not the
    password hasher."""
    keys = []
    with override_settings(SECRET_KEY=secret_key):
        for user in users:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = _session_backend()
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            keys.append(session.session_key)
    return keys


def _session_backend() -> str:
    """The backend a signed-in session names: the first that loads users back, as Django's
    test client's ``force_login`` chooses it."""
    for path in settings.AUTHENTICATION_BACKENDS:
        if hasattr(load_backend(path), "get_user"):
            return path
    raise RuntimeError("No authentication backend loads users from a session.")


# gunicorn -------------------------------------------------------------------------------------


class WebServer:
    """gunicorn serving the app on a free loopback port with production settings."""

    def __init__(self, *, secret_key: str, workers: int, threads: int, log_path: Path) -> None:
        self.port = _free_port()
        self.workers = workers
        self.threads = threads
        self.log_path = log_path
        self.env = {
            **measure.child_environment(eager=False),
            "DEBUG": "False",
            "SECRET_KEY": secret_key,
            "DEFAULT_PASSWORD_KEYS": _web_password_keys(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "PGAPPNAME": WEB_APP_NAME,
        }
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServer:
        python = sys.executable
        if not _static_files_collected():
            collect = [python, "manage.py", "collectstatic", "--noinput", "-v", "0"]
            subprocess.run(collect, cwd=ROOT, env=self.env, check=True)
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "ncedcloud.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if self._answers():
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        probe = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            probe.request("GET", "/accounts/login/")
            return probe.getresponse().status == 200
        except OSError:
            return False
        finally:
            probe.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _static_files_collected() -> bool:
    """Production settings serve the collected, hashed static files: collected already when
    the manifest is newer than every file under static/ (collecting takes 10 s here)."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return False
    sources = [path for folder in settings.STATICFILES_DIRS for path in Path(folder).rglob("*")]
    return all(path.stat().st_mtime < manifest.stat().st_mtime for path in sources)


def _web_password_keys() -> str:
    """This run's keys for the web server. With the development key (DEBUG runs) it gets a
    throw-away key instead, because production settings refuse the development key: none of
    the pages measured decrypts a password (People shows them masked)."""
    keys = settings.DEFAULT_PASSWORD_KEYS
    if settings.DEVELOPMENT_DEFAULT_PASSWORD_KEY in keys:
        return Fernet.generate_key().decode()
    return ",".join(keys)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# locust ---------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One locust run and the window its figures are counted over."""

    samples: list  # (end time, page, ms, why it failed or None)
    window: tuple[float, float]


class LocustRun:
    """locust, headless, against the web server, with ``plan``; stopped after ``seconds``
    or by ``stop()`` (SIGTERM: locust then writes its results and exits)."""

    def __init__(self, plan: dict, *, host: str, folder: Path, name: str, seconds: float):
        self.plan_path = folder / f"{name}-plan.json"
        self.results_path = folder / f"{name}-results.json"
        self.log_path = folder / f"{name}-locust.log"
        self.plan_path.write_text(json.dumps(plan))
        users = len(plan["pollers"]) + len(plan["browsers"])
        self.command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            host,
            "--users",
            str(users),
            "--spawn-rate",
            str(max(1, users)),
            "--run-time",
            f"{max(1, int(seconds))}s",
            "--stop-timeout",
            "5",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        self.env = {
            **os.environ,
            "BENCH_WEB_PLAN": str(self.plan_path),
            "BENCH_WEB_RESULTS": str(self.results_path),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> LocustRun:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> list:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if not self.results_path.exists():
            raise RuntimeError(f"locust wrote no results:\n{self.log_path.read_text()}")
        return json.loads(self.results_path.read_text())


def plan_make(staff: Staff, *, keys: list[str], csrf_secret: str, new_requests: Path | None):
    poller_keys, browser_keys = keys[: len(staff.pollers)], keys[len(staff.pollers) :]
    return {
        "csrf_secret": csrf_secret,
        "name_prefixes": sorted({name[:3] for name in LAST_NAMES[:12]}),
        "new_requests_file": str(new_requests) if new_requests else None,
        "pollers": [
            {"session": key, "request": request_id}
            for key, (_, _, request_id) in zip(poller_keys, staff.pollers, strict=True)
        ],
        "browsers": [
            {
                "session": key,
                "psu_code": psu.code,
                "campus_codes": psu.campus_codes,
                "pages": max(2, psu.students // 50),
            }
            for key, (_, psu) in zip(browser_keys, staff.browsers, strict=True)
        ],
    }


def idle_phase(plan: dict, *, web: WebServer, folder: Path, seconds: float) -> Phase:
    run = LocustRun(plan, host=web.url, folder=folder, name="idle", seconds=SPAWN_SECONDS + seconds)
    started = time.time()
    samples = run.start().wait(timeout=SPAWN_SECONDS + seconds + 60)
    return Phase(samples, (started + SPAWN_SECONDS, started + SPAWN_SECONDS + seconds))


def state_run_phase(
    plan: dict,
    *,
    web: WebServer,
    folder: Path,
    made: state.State,
    staff: Staff,
    queue: str,
    spread_seconds: float,
    timeout: float,
) -> tuple[Phase, list[int]]:
    """Locust running while every PSU confirms its request within ``spread_seconds``;
    each poller switches to their PSU's new request when it is confirmed."""
    new_requests = Path(plan["new_requests_file"])
    slots: dict[int, list[int]] = {}
    for slot, (_, psu, _) in enumerate(staff.pollers):
        slots.setdefault(psu.psu_id, []).append(slot)
    requester = {psu.psu_id: user for user, psu, _ in reversed(staff.pollers)}
    confirmed: dict[str, int] = {}

    def publish(psu, request_id: int) -> None:
        for slot in slots.get(psu.psu_id, []):
            confirmed[str(slot)] = request_id
        scratch = new_requests.with_suffix(".tmp")
        scratch.write_text(json.dumps(confirmed))
        scratch.replace(new_requests)  # atomic: locust never reads half a file

    run = LocustRun(plan, host=web.url, folder=folder, name="state-run", seconds=timeout)
    run.start()
    try:
        time.sleep(SPAWN_SECONDS)
        started = time.time()
        order = state.submission_order(made.psus, seed=16)
        ids = state.requests_confirm(
            made,
            order,
            spread_seconds=spread_seconds,
            queue=queue,
            requester=lambda psu: requester.get(psu.psu_id, made.data.admin),
            confirmed=publish,
        )
        state.requests_wait(ids, timeout=timeout, poll=0.5)
        ended = time.time()
    finally:
        run.stop()
    return Phase(run.wait(timeout=60), (started, ended)), ids


# Figures --------------------------------------------------------------------------------------


def page_figures(phase: Phase) -> dict:
    start, end = phase.window
    pages: dict[str, dict] = {}
    for at, name, ms, failure in phase.samples:
        if start <= at <= end:
            page = pages.setdefault(name, {"times": [], "errors": 0, "why": Counter()})
            page["times"].append(ms)
            if failure is not None:
                page["errors"] += 1
                page["why"][failure[:200]] += 1
    return {
        name: {
            "requests": len(page["times"]),
            "per_s": len(page["times"]) / (end - start) if end > start else None,
            "p50_ms": median(page["times"]),
            "p95_ms": state.percentile(page["times"], 95),
            "p99_ms": state.percentile(page["times"], 99),
            "errors": page["errors"],
            # What the failed answers were, the most frequent first.
            "error_reasons": dict(page["why"].most_common(5)),
        }
        for name, page in pages.items()
    }


def polls_in_step(phase: Phase, *, pace: float = 2.0, width: float = 0.1) -> float | None:
    """The largest share of the phase's progress polls that started within ``width``
    seconds of each other in the ``pace`` cycle (each poll's start, its end less its
    time, modulo ``pace``; the window slides round the cycle). Pollers spread over the
    cycle give about width / pace (0.05) plus chance; pollers in step give 1."""
    start, end = phase.window
    moments = sorted(
        ((at - ms / 1000) % pace)
        for at, name, ms, _failure in phase.samples
        if name == "progress" and start <= at <= end
    )
    if not moments:
        return None
    around = moments + [moment + pace for moment in moments]
    most, last = 0, 0
    for first, moment in enumerate(moments):
        while last < len(around) and around[last] < moment + width:
            last += 1
        most = max(most, last - first)
    return most / len(moments)


def phase_figures(pages: dict) -> dict:
    """The JSON's ``idle`` and ``state_run`` objects: exactly the figures the issue names."""

    def p95(name: str) -> float | None:
        return pages[name]["p95_ms"] if name in pages else None

    return {
        "progress_p95_ms": p95("progress"),
        "people_p95_ms": p95("people"),
        "confirm_p95_ms": p95("confirm"),
        "errors": sum(page["errors"] for page in pages.values()),
    }


def targets(figures: dict) -> dict:
    measured, met = {}, {}
    for name, op, bound in TARGETS:
        phase, key = name.split(".")
        value = figures[phase][key]
        measured[name] = value
        met[name] = value is not None and (value < bound if op == "<" else value == bound)
    return {"targets_measured": measured, "targets_met": met}


# The command ----------------------------------------------------------------------------------


def run(options: argparse.Namespace, *, say: Callable[[str], None]) -> dict:
    if connection.vendor != "postgresql":
        raise SystemExit(f"bench web measures PostgreSQL; this database is {connection.vendor}.")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise SystemExit("bench web needs real workers: set CELERY_BROKER_URL=redis://...")
    if data.bench_leftovers_remove(marker=MARKER):
        say("Removed the data of an earlier, killed run.")
    sizes = state.state_sizes(students=options.students, psus=options.psus)
    figures: dict = {
        "students": sum(sizes),
        "psus": len(sizes),
        "pollers": options.pollers,
        "browsers": options.browsers,
        "web_workers": options.web_workers,
        "web_threads": options.web_threads,
        "workers": options.workers,
        "web_nice": options.web_nice,
        "worker_nice": options.worker_nice,
        "idle_seconds": options.idle_seconds,
        "submit_seconds": options.submit_seconds,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": measure.machine_info(),
    }
    children: list = []
    sessions: list[str] = []
    web = None
    queue = f"{MARKER}-{os.getpid()}"
    try:
        with tempfile.TemporaryDirectory(prefix=f"{MARKER}-") as scratch:
            folder = Path(scratch)
            say(f"Creating a state of {sum(sizes):,} students in {len(sizes)} PSUs ...")
            made = state.state_create(sizes, say=say, marker=MARKER)
            data.students_rewrite(made.psus, passes=options.rewrite_passes)
            staff = staff_create(made, pollers=options.pollers, browsers=options.browsers)
            secret_key = secrets.token_urlsafe(64)
            sessions = sessions_create(staff.users, secret_key=secret_key)
            say(
                f"gunicorn ({options.web_workers} workers x {options.web_threads} threads), "
                f"{options.workers} Celery worker(s) ..."
            )
            web = WebServer(
                secret_key=secret_key,
                workers=options.web_workers,
                threads=options.web_threads,
                log_path=folder / "web.log",
            ).start()
            celery = state.celery_processes_start(options.workers, queue=queue, children=children)
            # The pages first on a shared machine, as docker-compose.yml's cpu_shares set it.
            figures["worker_nice_applied"] = [
                session_priority_set(process.pid, options.worker_nice) for process in celery
            ]
            figures["web_nice_applied"] = session_priority_set(web.process.pid, options.web_nice)
            if figures["web_nice_applied"] != options.web_nice:
                say(
                    f"gunicorn stays at nice {figures['web_nice_applied']}: a nice value below 0 "
                    "needs root (CAP_SYS_NICE)."
                )
            state.warm_up(made, options.workers, queue=queue, timeout=options.timeout)
            csrf_secret = secrets.token_hex(16)  # 32 characters: Django's unmasked secret
            plan = plan_make(
                staff, keys=sessions, csrf_secret=csrf_secret, new_requests=folder / "new.json"
            )
            # The idle phase measures idle workers, not autovacuum of the state just made.
            data.tables_settle()
            with state.ConnectionSampler(WEB_APP_NAME, state.WORKER_APP_NAME) as sampler:
                say(f"Idle workers: locust for {options.idle_seconds:g} s ...")
                idle = idle_phase(plan, web=web, folder=folder, seconds=options.idle_seconds)
                say(f"State run: every PSU confirms within {options.submit_seconds:g} s ...")
                data.tables_settle()
                state_run, ids = state_run_phase(
                    plan,
                    web=web,
                    folder=folder,
                    made=made,
                    staff=staff,
                    queue=queue,
                    spread_seconds=options.submit_seconds,
                    timeout=options.timeout,
                )
            timings = state.timings(ids)
    finally:
        for child in list(children):
            measure.celery_process_stop(child, children)
        if web is not None:
            web.stop()
        measure.broker_queue_remove(queue)
        say("Removing the benchmark's data ...")
        SessionStore.get_model_class().objects.filter(session_key__in=sessions).delete()
        data.bench_leftovers_remove(marker=MARKER)
    pages = {"idle": page_figures(idle), "state_run": page_figures(state_run)}
    figures["polls_in_step"] = {"idle": polls_in_step(idle), "state_run": polls_in_step(state_run)}
    figures["idle"] = phase_figures(pages["idle"])
    figures["state_run"] = phase_figures(pages["state_run"])
    figures["pages"] = pages
    figures["state_run_requests"] = {
        "requests": len(timings),
        "completed": sum(t.status == "completed" for t in timings.values()),
        "seconds": state_run.window[1] - state_run.window[0],
        "students_per_s": state._students_per_s(timings.values()),
    }
    figures["max_db_connections"] = {
        "web": sampler.most[WEB_APP_NAME],
        "workers": sampler.most[state.WORKER_APP_NAME],
        "together": sampler.most_total,
    }
    figures.update(targets(figures))
    figures["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    figures["load_average_after"] = measure.machine_info()["load_average"]
    return figures


def report(figures: dict) -> str:
    lines = [
        "",
        f"bench web: {figures['pollers']} administrators polling progress every 2 s and "
        f"{figures['browsers']} opening People and confirm pages, against gunicorn "
        f"({figures['web_workers']} workers x {figures['web_threads']} threads); state of "
        f"{figures['students']:,} students in "
        f"{figures['psus']} PSUs on {figures['workers']} worker process(es); nice values: "
        f"gunicorn {figures['web_nice_applied']}, PostgreSQL 0, Celery "
        f"{', '.join(map(str, figures['worker_nice_applied']))}",
        f"machine: {state._machine(figures['machine'])}; load average after "
        f"{figures['load_average_after']}",
        "",
        f"{'phase':<10} {'page':<22} {'requests':>9} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7}",
    ]
    for phase, pages in figures["pages"].items():
        for name in sorted(pages, key=lambda n: PAGES.index(n) if n in PAGES else 99):
            page = pages[name]
            lines.append(
                f"{phase:<10} {name:<22} {page['requests']:>9,} {state._fmt(page['per_s']):>7} "
                f"{state._fmt(page['p50_ms']):>8} {state._fmt(page['p95_ms']):>8} "
                f"{state._fmt(page['p99_ms']):>8} {page['errors']:>7,}"
            )
    run_ = figures["state_run_requests"]
    connections = figures["max_db_connections"]
    lines += [
        "",
        f"state run: {run_['completed']} of {run_['requests']} requests completed in "
        f"{state._fmt(run_['seconds'])} s, {state._fmt(run_['students_per_s'])} students/s",
        f"most database connections: web {connections['web']}, workers {connections['workers']}, "
        f"together {connections['together']}",
        "polls started within 0.1 s of each other in the 2 s cycle, the most: "
        + ", ".join(
            f"{phase} {state._fmt(share)}" for phase, share in figures["polls_in_step"].items()
        )
        + " (spread: about 0.05; in step: 1)",
        "",
        f"{'target':<40} {'measured':>10}  met",
    ]
    for name, op, bound in TARGETS:
        met = "yes" if figures["targets_met"][name] else "NO"
        value = state._fmt(figures["targets_measured"][name])
        lines.append(f"{name + ' ' + op + ' ' + state._fmt(bound):<40} {value:>10}  {met}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench web", description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=state.STATE_STUDENTS)
    parser.add_argument("--psus", type=int, default=state.STATE_PSUS)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    served = runpy.run_path(str(ROOT / "gunicorn.conf.py"))  # as the compose file serves
    parser.add_argument(
        "--web-workers", type=int, default=served["workers"], help="gunicorn workers"
    )
    parser.add_argument(
        "--web-threads",
        type=int,
        default=served["threads"],
        help="threads per gunicorn worker (1: sync workers)",
    )
    parser.add_argument(
        "--web-nice",
        type=int,
        default=WEB_NICE,
        choices=range(-20, 20),
        metavar="-20-19",
        help="gunicorn's CPU weight as a nice value (default %(default)s; below 0 needs root, "
        "else it stays at 0)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=WORKER_NICE,
        choices=range(20),
        metavar="0-19",
        help="the Celery processes' CPU weight as a nice value (default %(default)s; 0: the "
        "web tier's, as without docker-compose.yml's cpu_shares)",
    )
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--browsers", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--submit-seconds", type=float, default=60.0)
    parser.add_argument(
        "--rewrite-passes",
        type=int,
        default=0,
        help="rewrite every student first (nothing here compares a freshly loaded table)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="of the state run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args(argv)
    if options.pollers < 1 or options.browsers < 1:
        parser.error("--pollers and --browsers must be at least 1")
    return options


def main(argv: list[str] | None = None) -> int:
    """``python -m bench web [options]`` (``bench/__main__.py`` sets Django up first)."""
    options = parse_args(argv)
    logging.getLogger("regeneration").setLevel(logging.WARNING)

    def say(message: str) -> None:
        print(message, flush=True)

    with state.sigterm_interrupts():
        figures = run(options, say=say)
    print(report(figures))
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
        print(f"Figures written to {options.json}")
    return 0
