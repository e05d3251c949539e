"""The fault drills themselves. Imported only after ``DrillEnvironment`` has pointed Django
at the drill's own PostgreSQL and Redis (see ``run_drills``)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from drills.infra import CeleryProcess, TempPostgres, TempRedis, wait_for

PSU_CODE = "D20"
CAMPUS_COUNT = 8
GRADES = ("-5", "0", "2", "3", "5", "7", "9", "12", "-9")
DRILL_SETTINGS = {
    "REGENERATION_CHUNK_SIZE": "250",
    "REGENERATION_TASK_BUDGET_SECONDS": "1",
    "REGENERATION_STALE_AFTER_SECONDS": "8",
    "REGENERATION_SWEEP_SECONDS": "2",
    "CONN_MAX_AGE": "60",
    "DEBUG": "True",
    "PYTHONUNBUFFERED": "1",
    "EMAIL_URL": "",
}
WITNESS_SQL = """
CREATE TABLE drill_change (
  id bigserial PRIMARY KEY, student_id bigint NOT NULL, txid bigint NOT NULL, token text NOT NULL
);
CREATE FUNCTION drill_witness() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.default_password_encrypted IS DISTINCT FROM OLD.default_password_encrypted THEN
    INSERT INTO drill_change (student_id, txid, token)
    VALUES (NEW.id, txid_current() % 4294967296, NEW.default_password_encrypted);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER drill_witness AFTER UPDATE ON people_student
  FOR EACH ROW EXECUTE FUNCTION drill_witness();
"""
DRILL_SERVICES = ("DATABASE_URL", "CELERY_BROKER_URL", "DEFAULT_PASSWORD_KEYS")
logger = logging.getLogger("drills")


class FaultMissed(RuntimeError):
    """The request finished before the fault could be injected."""


@dataclass
class DrillResult:
    number: int
    fault: str
    targeted: int = 0
    changed_once: int = 0
    changed_twice: int = 0
    not_changed: int = 0
    recovery_seconds: float | None = None
    status: str = ""
    expected_status: str = "completed"
    note: str = ""

    def problems(self) -> list[str]:
        found = []
        if self.changed_twice:
            found.append(f"fault {self.number}: {self.changed_twice} students changed twice")
        if self.status == "completed" and self.not_changed:
            found.append(
                f"fault {self.number}: {self.not_changed} students left unchanged by a "
                "request that reports completed"
            )
        if self.status != self.expected_status:
            found.append(
                f"fault {self.number}: final status {self.status!r}, expected "
                f"{self.expected_status!r} ({self.note})"
            )
        return found


@dataclass
class DrillReport:
    students: int
    rows: list[DrillResult] = field(default_factory=list)
    secrets: dict[str, int] = field(default_factory=dict)
    generated_passwords: int = 0

    def problems(self) -> list[str]:
        found = [problem for row in self.rows for problem in row.problems()]
        found += [
            f"{count} generated passwords found in {place}"
            for place, count in self.secrets.items()
            if count
        ]
        return found

    def table(self) -> str:
        header = (
            f"{'#':>2}  {'fault':<58} {'targeted':>8} {'once':>7} {'twice':>5} "
            f"{'not chg':>7} {'recovery':>9}  status"
        )
        lines = [f"Fault drills, {self.students:,} students per request", header, "-" * len(header)]
        for row in self.rows:
            recovery = f"{row.recovery_seconds:.1f} s" if row.recovery_seconds is not None else "-"
            lines.append(
                f"{row.number:>2}  {row.fault:<58} {row.targeted:>8,} {row.changed_once:>7,} "
                f"{row.changed_twice:>5,} {row.not_changed:>7,} {recovery:>9}  {row.status}"
            )
            if row.note:
                lines.append(f"{'':4}{row.note}")
        if self.secrets:
            lines.append("")
            lines.append(
                f"Secrets: searched {self.generated_passwords:,} generated passwords in "
                + ", ".join(f"{place} ({count})" for place, count in self.secrets.items())
            )
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "students": self.students,
            "rows": [asdict(row) for row in self.rows],
            "secrets": self.secrets,
            "generated_passwords": self.generated_passwords,
            "problems": self.problems(),
        }


class DrillEnvironment:
    """PostgreSQL, Redis, a Celery beat and workers of the drill's own."""

    def __init__(self, *, students: int, log_folder: Path | None) -> None:
        self.students = students
        self.keep_logs = log_folder is not None
        self.log_folder = log_folder or Path(tempfile.mkdtemp(prefix="drill-logs-"))
        self.log_folder.mkdir(parents=True, exist_ok=True)
        self.key = Fernet.generate_key().decode()
        self.workers: list[CeleryProcess] = []
        self.beat: CeleryProcess | None = None
        self.responses: list[str] = []
        self._worker_count = 0

    def __enter__(self) -> DrillEnvironment:
        self.pg = TempPostgres().start()
        self.pg.create_database("drill")
        self.redis = TempRedis().start()
        self.env = {
            **os.environ,
            **DRILL_SETTINGS,
            "DATABASE_URL": self.pg.url("drill"),
            "CELERY_BROKER_URL": self.redis.url,
            "DEFAULT_PASSWORD_KEYS": self.key,
        }
        os.environ.update({k: self.env[k] for k in (*DRILL_SETTINGS, *DRILL_SERVICES)})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ncedcloud.settings")
        import django

        django.setup()
        for console in logging.getLogger().handlers:  # keep the terminal for the table
            console.setLevel(logging.WARNING)
        handler = logging.FileHandler(self.log_folder / "runner.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logging.getLogger().addHandler(handler)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self._seed()
        self.beat = CeleryProcess("beat", self.env, self.log_folder, "beat").start()
        self.start_worker()
        return self

    def __exit__(self, *exc_info) -> None:
        for worker in self.workers:
            worker.kill_group()
        if self.beat:
            self.beat.kill_group()
        from django.db import connections

        connections.close_all()
        self.redis.cleanup()
        self.pg.stop()
        if not self.keep_logs:
            shutil.rmtree(self.log_folder, ignore_errors=True)

    # Services ------------------------------------------------------------------------------

    def start_worker(self, *, concurrency: int = 1, **env: str) -> CeleryProcess:
        self._worker_count += 1
        worker = CeleryProcess(
            "worker", {**self.env, **env}, self.log_folder, f"worker{self._worker_count}"
        ).start(f"--concurrency={concurrency}")
        self.workers.append(worker)
        return worker

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.terminate()

    def logs(self) -> str:
        parts = [p.read_text() for p in self.log_folder.glob("*.log")]
        return "\n".join(parts)

    # Data ----------------------------------------------------------------------------------

    def _seed(self) -> None:
        from django.db import connection

        from catalog.models import RoleAssignment
        from people.models import PSU, Campus, Student, User
        from regeneration.crypto import encrypt_default_password
        from regeneration.hashers import EncryptedTemporaryPasswordHasher

        psu = PSU.objects.create(code=PSU_CODE, name="Drill County Schools")
        campuses = [
            Campus.objects.create(code=f"{PSU_CODE}{n:03d}", name=f"Drill School {n}", psu=psu)
            for n in range(CAMPUS_COUNT)
        ]
        batch = []
        for n in range(self.students):
            token = encrypt_default_password(f"seed{n:06d}x")
            batch.append(
                Student(
                    student_number=f"{8_000_000_000 + n}",
                    first_name="Drill",
                    last_name=f"Student{n}",
                    username=f"drill{n}",
                    psu=psu,
                    campus=campuses[n % CAMPUS_COUNT],
                    grade=GRADES[n % len(GRADES)],
                    default_password_encrypted=token,
                    password=EncryptedTemporaryPasswordHasher.encode_token(token),
                )
            )
            if len(batch) == 5000:
                Student.objects.bulk_create(batch)
                batch = []
        Student.objects.bulk_create(batch)
        for username in ("drilladmin1", "drilladmin2"):
            user = User.objects.create(username=username, email=f"{username}@example.org")
            RoleAssignment.objects.create(user=user, role="lea_admin", psu=psu)
        with connection.cursor() as cursor:
            cursor.execute(WITNESS_SQL)

    def client(self, username: str = "drilladmin1"):
        from django.test import Client

        from people.models import User

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=username))
        return client

    def last_change_id(self) -> int:
        return self._sql("SELECT coalesce(max(id), 0) FROM drill_change")[0][0]

    def _sql(self, sql: str, params=None) -> list[tuple]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


# Helpers -------------------------------------------------------------------------------------


def db_retry(fn, timeout: float = 60):
    """Call fn, riding out a database restart."""
    from django.db import InterfaceError, OperationalError, close_old_connections, connection

    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (OperationalError, InterfaceError):
            if time.monotonic() > deadline:
                raise
            connection.close()
            close_old_connections()
            time.sleep(0.2)


def request_state(pk: int) -> dict:
    from regeneration.models import RegenerationRequest

    return db_retry(
        lambda: (
            RegenerationRequest.objects.filter(pk=pk)
            .values(
                "status",
                "chunks_done",
                "chunk_count",
                "processed_count",
                "targeted_count",
                "dispatched_at",
                "started_at",
                "finished_at",
                "error_message",
            )
            .get()
        )
    )


def confirm_request(env: DrillEnvironment, *, username: str = "drilladmin1", **fields):
    """Fill in the form and press Confirm, as a browser would. Returns (request id, seconds
    the Confirm page took to answer)."""
    from django.urls import reverse

    from regeneration.models import RegenerationRequest

    client = env.client(username)
    data = {
        "psu_code": PSU_CODE,
        "reset_current_passwords": "on",
        "force_password_change": "on",
        "comments": "fault drill",
        **fields,
    }
    response = client.post(reverse("regeneration:new"), data)
    assert response.status_code == 302, response.content[:500]
    confirm_url = response["Location"]
    started = time.monotonic()
    response = client.post(confirm_url)
    elapsed = time.monotonic() - started
    env.responses.append(response.content.decode())
    key = confirm_url.rstrip("/").rsplit("/", 1)[-1]
    return RegenerationRequest.objects.get(confirmation_key=key).pk, elapsed


def wait_until_running(pk: int, *, min_chunks: int = 2, timeout: float = 60) -> None:
    def ready():
        state = request_state(pk)
        if state["status"] in ("completed", "completed_with_errors", "failed"):
            raise FaultMissed(f"request {pk} finished before the fault")
        return state["status"] == "running" and state["chunks_done"] >= min_chunks

    wait_for(ready, timeout, f"request {pk} to be running", interval=0.01)


def wait_until_chunk_in_flight(env: DrillEnvironment, timeout: float = 10) -> None:
    """Until a worker's connection is inside a transaction: a chunk is being written."""

    def in_flight():
        return env._sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
            "AND backend_type = 'client backend'"
        )[0][0]

    wait_for(in_flight, timeout, "a chunk in flight", interval=0.005)


def wait_until_finished(pk: int, timeout: float = 240) -> dict:
    wait_for(
        lambda: request_state(pk)["status"] in ("completed", "completed_with_errors", "failed"),
        timeout,
        f"request {pk} to finish",
        interval=0.1,
    )
    return request_state(pk)


def tally(env: DrillEnvironment, request_ids: list[int], result: DrillResult) -> DrillResult:
    """Count, from the witness trigger, how often each targeted student was changed by each
    request (changes are attributed by transaction id to the request whose outcome rows
    that transaction wrote)."""
    from regeneration.models import RegenerationRequest
    from regeneration.selectors import students_of_request

    for pk in request_ids:
        request = RegenerationRequest.objects.get(pk=pk)
        targeted = list(students_of_request(request).values_list("pk", flat=True))
        txids = [
            row[0]
            for row in env._sql(
                "SELECT DISTINCT xmin::text::bigint FROM regeneration_regenerationoutcome "
                "WHERE request_id = %s",
                [pk],
            )
        ]
        counts = dict(
            env._sql(
                "SELECT student_id, count(*) FROM drill_change WHERE txid = ANY(%s) "
                "GROUP BY student_id",
                [txids],
            )
        )
        result.targeted += len(targeted)
        result.changed_once += sum(1 for s in targeted if counts.get(s) == 1)
        result.changed_twice += sum(1 for s in targeted if counts.get(s, 0) > 1)
        result.not_changed += sum(1 for s in targeted if s not in counts)
    return result


def mismatched_logins(env: DrillEnvironment) -> int:
    """Students whose login password is not their default password (all drills reset)."""
    return env._sql(
        "SELECT count(*) FROM people_student WHERE password <> 'fernet_temp$' || "
        "default_password_encrypted"
    )[0][0]


def finish_row(env, row: DrillResult, pk: int, fault_at: float, *, timeout: float = 240):
    state = wait_until_finished(pk, timeout)
    row.recovery_seconds = time.monotonic() - fault_at
    row.status = state["status"]
    tally(env, [pk], row)
    mismatched = mismatched_logins(env)
    if mismatched:
        row.note += f" {mismatched} students' login and default passwords differ."
        row.status += " (inconsistent)"
    return row


# The faults ---------------------------------------------------------------------------------


def drill_pool_process_killed(env: DrillEnvironment) -> DrillResult:
    row = DrillResult(1, "worker pool process SIGKILLed mid-chunk")
    worker = env.workers[-1]
    pk, _ = confirm_request(env)
    wait_until_running(pk)
    wait_until_chunk_in_flight(env)
    children = worker.children()
    for child in children:
        os.kill(child, signal.SIGKILL)
    fault_at = time.monotonic()
    finish_row(env, row, pk, fault_at)
    row.note = (
        f"killed pool process {children}; worker {worker.pid} "
        f"{'carried on' if worker.alive() else 'DIED'}."
    )
    if not worker.alive():
        row.status += " (worker died)"
    return row


def drill_worker_killed(env: DrillEnvironment) -> DrillResult:
    row = DrillResult(2, "whole worker SIGKILLed mid-chunk, new worker 10 s later")
    pk, _ = confirm_request(env)
    wait_until_running(pk)
    wait_until_chunk_in_flight(env)
    env.workers[-1].kill_group(signal.SIGKILL)
    fault_at = time.monotonic()
    time.sleep(10)
    env.start_worker()
    finish_row(env, row, pk, fault_at)
    row.note = "recovered by the sweep (Redis's visibility timeout is 3,600 s)."
    return row


def drill_warm_shutdown(env: DrillEnvironment) -> DrillResult:
    row = DrillResult(3, "warm shutdown (SIGTERM) mid-request, then a restart")
    pk, _ = confirm_request(env)
    wait_until_running(pk)
    fault_at = time.monotonic()
    env.workers[-1].terminate()  # returns once the worker has exited
    state = request_state(pk)
    env.start_worker()
    finish_row(env, row, pk, fault_at)
    row.note = f"{state['chunks_done']} of {state['chunk_count']} chunks done at shutdown."
    return row


def drill_redis_down_at_confirm(env: DrillEnvironment) -> DrillResult:
    row = DrillResult(4, "Redis down when Confirm is pressed, back 5 s later")
    env.redis.stop()
    pk, answered_in = confirm_request(env)
    queued = request_state(pk)
    time.sleep(5)
    still_queued = request_state(pk)["status"] == "queued"
    env.redis.start()
    fault_at = time.monotonic()
    finish_row(env, row, pk, fault_at)
    row.note = (
        f"Confirm answered in {answered_in:.2f} s; request {queued['status']} "
        f"(dispatched: {'yes' if queued['dispatched_at'] else 'no'}), still queued after 5 s: "
        f"{'yes' if still_queued else 'no'}; recovery counted from Redis's return."
    )
    if answered_in >= 2 or queued["status"] != "queued" or not still_queued:
        row.status += " (confirm did not behave)"
    return row


def drill_redis_restarted(env: DrillEnvironment) -> DrillResult:
    row = DrillResult(5, "Redis restarted mid-request, nothing persisted")
    pk, _ = confirm_request(env)
    wait_until_running(pk)
    env.redis.stop()
    fault_at = time.monotonic()
    env.redis.start()
    finish_row(env, row, pk, fault_at)
    row.note = "queued messages lost; the sweep re-dispatched the request."
    return row


def drill_postgres_restarted(env: DrillEnvironment) -> DrillResult:
    row = DrillResult(6, "PostgreSQL restarted mid-chunk")
    pk, _ = confirm_request(env)
    wait_until_running(pk)
    wait_until_chunk_in_flight(env)
    env.pg.restart()
    fault_at = time.monotonic()
    finish_row(env, row, pk, fault_at)
    # No broken connection lingers: a new request right after completes normally.
    follow_up, _ = db_retry(lambda: confirm_request(env, campus_codes=f"{PSU_CODE}000"))
    started = time.monotonic()
    follow = wait_until_finished(follow_up, timeout=60)
    row.note = (
        f"follow-up request {follow['status']} in {time.monotonic() - started:.1f} s "
        "with no lingering connection errors."
    )
    if follow["status"] != "completed":
        row.status += " (follow-up failed)"
    return row


def drill_same_chunk_twice(env: DrillEnvironment) -> DrillResult:
    from people.models import PSU, User
    from regeneration import services
    from regeneration.models import RegenerationRequest
    from regeneration.tasks import task_run_chunk

    row = DrillResult(7, "every chunk delivered twice at the same time (2 workers)")
    extra = env.start_worker()
    request = RegenerationRequest.objects.create(
        requester=User.objects.get(username="drilladmin1"),
        psu=PSU.objects.get(code=PSU_CODE),
        reset_current_passwords=True,
        force_password_change=True,
        confirmation_key=uuid.uuid4(),
        comments="fault drill: duplicate delivery",
    )
    services.request_start(request_id=request.pk)
    fault_at = time.monotonic()
    for chunk_id in services.pending_chunk_ids(request_id=request.pk):
        for _ in range(2):
            task_run_chunk.apply_async(kwargs={"request_id": request.pk, "chunk_id": chunk_id})
    finish_row(env, row, request.pk, fault_at)
    extra.terminate()
    env.workers.remove(extra)
    return row


def drill_overlapping_requests(env: DrillEnvironment) -> DrillResult:
    from regeneration.models import RegenerationRequest

    row = DrillResult(8, "two administrators confirm overlapping requests at once")
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def confirm(username: str, campus_codes: str) -> None:
        from django.db import connection

        try:
            from django.urls import reverse

            client = env.client(username)
            data = {
                "psu_code": PSU_CODE,
                "campus_codes": campus_codes,
                "reset_current_passwords": "on",
                "force_password_change": "on",
            }
            confirm_url = client.post(reverse("regeneration:new"), data)["Location"]
            barrier.wait()
            client.post(confirm_url)
            key = confirm_url.rstrip("/").rsplit("/", 1)[-1]
            results[username] = RegenerationRequest.objects.get(confirmation_key=key).pk
        finally:
            connection.close()

    threads = [
        threading.Thread(target=confirm, args=("drilladmin1", "")),
        threading.Thread(target=confirm, args=("drilladmin2", f"{PSU_CODE}000, {PSU_CODE}001")),
    ]
    fault_at = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = sorted(results.values())
    states = [wait_until_finished(pk) for pk in ids]
    row.recovery_seconds = time.monotonic() - fault_at
    row.status = (
        "completed"
        if all(s["status"] == "completed" for s in states)
        else ",".join(s["status"] for s in states)
    )
    tally(env, ids, row)
    first, second = sorted(states, key=lambda s: s["started_at"])
    serialised = second["started_at"] >= first["finished_at"]
    mismatched = mismatched_logins(env)
    order = "serialised, one after the other" if serialised else "RAN TOGETHER"
    row.note = (
        f"requests {ids[0]} and {ids[1]}: {order}; "
        f"{mismatched} students with login and default passwords differing."
    )
    if not serialised or mismatched:
        row.status += " (inconsistent)"
    return row


def drill_wrong_key(env: DrillEnvironment) -> DrillResult:
    row = DrillResult(9, "wrong encryption key deployed to the worker", expected_status="failed")
    # A finished request to try the downloads on later (made with the right key).
    done, _ = confirm_request(env, campus_codes=f"{PSU_CODE}001")
    wait_until_finished(done, timeout=120)
    env.stop_workers()
    env.workers.clear()
    marker = env.last_change_id()
    wrong = env.start_worker(DEFAULT_PASSWORD_KEYS=Fernet.generate_key().decode())
    pk, _ = confirm_request(env)
    fault_at = time.monotonic()
    state = wait_until_finished(pk, timeout=60)
    row.recovery_seconds = time.monotonic() - fault_at
    row.status = state["status"]
    tally(env, [pk], row)
    changed = env._sql("SELECT count(*) FROM drill_change WHERE id > %s", [marker])[0][0]
    clear = (
        "could not be decrypted" in state["error_message"]
        and "gAAAA" not in (state["error_message"])
    )
    row.note = f"{changed} students overwritten; error shown: {state['error_message'][:90]!r}" + (
        "" if clear else " (NOT CLEAR)"
    )
    pages = wrong_key_pages(env, done)
    row.note += f"; with the wrong key in the web app: {pages}"
    if changed or not clear or "UNSAFE" in pages:
        row.status += " (unsafe)"
    wrong.terminate()
    env.workers.remove(wrong)
    env.start_worker()
    return row


def wrong_key_pages(env: DrillEnvironment, done: int) -> str:
    """Reveal and export with a wrong key in the web app: each must answer with a clear
    error, show no ciphertext and record no disclosure."""
    from django.test import override_settings
    from django.urls import reverse

    from people.models import Student
    from regeneration.models import DefaultPasswordDisclosure

    student = Student.objects.filter(psu__code=PSU_CODE).order_by("id").first()
    client = env.client("drilladmin1")
    disclosures = DefaultPasswordDisclosure.objects.count()
    results = []
    with override_settings(DEFAULT_PASSWORD_KEYS=[Fernet.generate_key().decode()]):
        for name, response in (
            ("reveal", client.post(reverse("people:reveal", args=[student.pk]))),
            ("CSV", client.get(reverse("regeneration:handout_csv", args=[done]))),
            (
                "cards",  # one campus and grade: small enough to print, so passwords are read
                client.get(
                    reverse("regeneration:handout_cards", args=[done]),
                    {"campus": f"{PSU_CODE}001", "grade": GRADES[1]},
                ),
            ),
        ):
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            env.responses.append(text)
            safe = (
                response.status_code >= 500
                and "cannot be decrypted" in text
                and "gAAAA" not in text
            )
            results.append(f"{name} {response.status_code}{'' if safe else ' UNSAFE'}")
    if DefaultPasswordDisclosure.objects.count() != disclosures:
        results.append("UNSAFE: a disclosure was recorded")
    return ", ".join(results) + ", no ciphertext shown"


DRILLS = {
    1: drill_pool_process_killed,
    2: drill_worker_killed,
    3: drill_warm_shutdown,
    4: drill_redis_down_at_confirm,
    5: drill_redis_restarted,
    6: drill_postgres_restarted,
    7: drill_same_chunk_twice,
    8: drill_overlapping_requests,
    9: drill_wrong_key,
}


# Secrets ------------------------------------------------------------------------------------

WORD = re.compile(r"[A-Za-z0-9]{8,}")


def find_passwords(text: str, passwords: set[str], lengths: set[int]) -> int:
    """How many of the passwords occur in the text (also inside longer runs of letters)."""
    found = set()
    for match in WORD.finditer(text):
        run = match.group()
        for size in lengths:
            for start in range(0, len(run) - size + 1):
                if run[start : start + size] in passwords:
                    found.add(run[start : start + size])
    return len(found)


def secrets_check(env: DrillEnvironment, report: DrillReport) -> None:
    from regeneration.crypto import DefaultPasswordDecryptionError, decrypt_default_password
    from regeneration.models import RegenerationRequest

    passwords = set()
    for (token,) in env._sql("SELECT token FROM drill_change"):
        with contextlib.suppress(DefaultPasswordDecryptionError):
            passwords.add(decrypt_default_password(token))
    report.generated_passwords = len(passwords)
    lengths = {len(p) for p in passwords}
    errors = "\n".join(RegenerationRequest.objects.values_list("error_message", flat=True))
    places = {
        "worker and beat logs": "\n".join(w.log() for w in env.workers)
        + (env.beat.log() if env.beat else ""),
        "runner log": (env.log_folder / "runner.log").read_text(),
        "Redis keys and values (messages, task arguments)": env.redis.dump_everything(),
        "error messages and pages": errors + "\n".join(env.responses),
    }
    for place, text in places.items():
        report.secrets[place] = find_passwords(text, passwords, lengths)


def run_drills(*, students: int, only: set[int], log_folder: Path | None) -> DrillReport:
    report = DrillReport(students=students)
    with DrillEnvironment(students=students, log_folder=log_folder) as env:
        for number, drill in DRILLS.items():
            if only and number not in only:
                continue
            logger.info("Drill %s: %s", number, drill.__name__)
            try:
                row = drill(env)
            except FaultMissed as exc:
                row = DrillResult(number, drill.__name__, status="fault missed", note=str(exc))
            report.rows.append(row)
            print(f"  fault {number} done: {row.status}", flush=True)
        secrets_check(env, report)
    return report
