"""The faults, one function each, and the helpers that drive a request through the pages
and wait for it. ``run_drills`` runs them in the drills' own environment."""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
import uuid
from pathlib import Path

from cryptography.fernet import Fernet

from drills.environment import GRADES, PSU_CODE, DrillEnvironment, wait_for
from drills.report import DrillReport, DrillResult, secrets_check

logger = logging.getLogger("drills")


class FaultMissed(RuntimeError):
    """The request finished before the fault could be injected."""


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
    from django.db.models import Count, Q

    from regeneration.models import RegenerationRequest

    return db_retry(
        lambda: (
            RegenerationRequest.objects.filter(pk=pk)
            .annotate(
                chunks_done=Count("chunks", filter=Q(chunks__status="done")),
                chunk_count=Count("chunks"),
            )
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


def confirm_data(client, confirm_url: str) -> dict:
    """What Confirm posts: a large request's number of students, typed as the page asks."""
    page = client.get(confirm_url).content.decode()
    typed = re.search(r'data-confirm-count="(\d+)"', page)
    return {"confirm_count": typed.group(1)} if typed else {}


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
    typed = confirm_data(client, confirm_url)
    started = time.monotonic()
    response = client.post(confirm_url, typed)
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
    from regeneration import engine, lifecycle
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
    lifecycle.request_start(request_id=request.pk)
    fault_at = time.monotonic()
    for chunk_id in engine.pending_chunk_ids(request_id=request.pk):
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
            typed = confirm_data(client, confirm_url)
            barrier.wait()
            client.post(confirm_url, typed)
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
        "cannot be decrypted" in state["error_message"] and "gAAAA" not in (state["error_message"])
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
    """Reveal and export with a wrong key in the web app: each must answer 503 with a clear
    error, show no ciphertext and record no disclosure."""
    from django.test import override_settings
    from django.urls import reverse

    from people.models import DefaultPasswordDisclosure, Student

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
                response.status_code == 503
                and "cannot be decrypted" in text
                and "gAAAA" not in text
            )
            results.append(f"{name} {response.status_code}{'' if safe else ' UNSAFE'}")
    if DefaultPasswordDisclosure.objects.count() != disclosures:
        results.append("UNSAFE: a disclosure was recorded")
    return ", ".join(results) + ", no ciphertext shown"


def defaults_now(env: DrillEnvironment) -> dict[int, str]:
    """Every drill student's default password, decrypted."""
    from credentials.crypto import decrypt_default_password

    rows = env._sql(
        "SELECT s.id, s.default_password_encrypted FROM people_student s "
        "JOIN people_psu p ON p.id = s.psu_id WHERE p.code = %s",
        [PSU_CODE],
    )
    return {student_id: decrypt_default_password(token) for student_id, token in rows}


def undo_through_the_page(env: DrillEnvironment, request_id: int) -> int:
    """Press *Undo this request* as its requester does; returns the undo's id."""
    from django.urls import reverse

    from regeneration.models import RegenerationRequest

    client = env.client()
    page = client.get(reverse("regeneration:undo", args=[request_id]))
    key = re.search(r'name="key" value="([0-9a-f-]+)"', page.content.decode()).group(1)
    client.post(reverse("regeneration:undo", args=[request_id]), {"key": key})
    return RegenerationRequest.objects.get(confirmation_key=key).pk


def drill_worker_killed_during_undo(env: DrillEnvironment) -> DrillResult:
    row = DrillResult(10, "whole worker SIGKILLed mid-chunk of an undo, new worker 10 s later")
    before = defaults_now(env)
    done, _ = confirm_request(env)
    wait_until_finished(done)
    undo = undo_through_the_page(env, done)
    wait_until_running(undo)
    wait_until_chunk_in_flight(env)
    env.workers[-1].kill_group(signal.SIGKILL)
    fault_at = time.monotonic()
    time.sleep(10)
    env.start_worker()
    state = wait_until_finished(undo)
    row.recovery_seconds = time.monotonic() - fault_at
    row.status = state["status"]
    tally(env, [undo], row)
    after = defaults_now(env)
    wrong = sum(1 for student_id, password in before.items() if after[student_id] != password)
    mismatched = mismatched_logins(env)
    row.note = (
        f"undo of request {done}: {len(before) - wrong:,} of {len(before):,} students' defaults "
        f"decrypt to the value they had before the request; {mismatched} logins differ from "
        "their default."
    )
    if wrong or mismatched:
        row.status += " (not restored)"
    return row


def drill_cancel_mid_chunk(env: DrillEnvironment) -> DrillResult:
    from django.urls import reverse

    row = DrillResult(11, "Cancel pressed while a chunk runs", expected_status="cancelled")
    client = env.client()  # signed in before: pressing Cancel is then one POST
    pk, _ = confirm_request(env)
    wait_until_running(pk, min_chunks=1)
    wait_until_chunk_in_flight(env)
    client.post(reverse("regeneration:cancel", args=[pk]))
    fault_at = time.monotonic()
    state = request_state(pk)
    time.sleep(3)  # a chunk in flight commits whole (or rolls back); no other starts
    settled = request_state(pk)
    row.recovery_seconds = time.monotonic() - fault_at
    row.status = settled["status"]
    tally(env, [pk], row)
    changed = row.changed_once + row.changed_twice
    row.note = (
        f"cancelled at {state['processed_count']:,} changed; {settled['processed_count']:,} "
        f"changed in the end ({changed:,} by the witness), {row.not_changed:,} not changed, "
        f"{settled['chunks_done']} of {settled['chunk_count']} chunks done."
    )
    if changed != settled["processed_count"] or settled["status"] != "cancelled":
        row.status += " (inconsistent)"
    return row


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
    10: drill_worker_killed_during_undo,
    11: drill_cancel_mid_chunk,
}


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
