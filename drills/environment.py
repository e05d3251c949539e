"""The drills' own world: a PostgreSQL cluster, a Redis server, Celery beat and workers in
temporary folders on free ports (the machine's services are never touched), the drill PSU's
students, and the witness trigger that counts every change of a default password.

Each service can be killed and restarted. Django is pointed at the drill's PostgreSQL and
Redis when the environment is entered; import Django models only after that.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from tooling.worker import CeleryProcess

PG_BIN = Path("/usr/lib/postgresql")

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
SEED_BATCH = 5000


class DrillSetupError(RuntimeError):
    """The machine lacks something the drills need."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _pg_bin(name: str) -> str:
    versions = sorted(PG_BIN.glob("*/bin"), key=lambda p: float(p.parent.name), reverse=True)
    for folder in versions:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found:
        return found
    raise DrillSetupError(f"PostgreSQL's {name} is not installed")


class TempPostgres:
    """A PostgreSQL cluster of its own in a temporary folder, owned by the postgres user
    (initdb refuses to run as root)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="drill-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = list(args)
        if self._as_postgres:
            if not shutil.which("runuser"):
                raise DrillSetupError("running as root needs runuser to start PostgreSQL")
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> TempPostgres:
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
        self._run(
            _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        self._ctl("start")
        return self

    def _ctl(self, action: str, *extra: str) -> None:
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            action,
            *extra,
        )

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        self._run(
            _pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name
        )


class TempRedis:
    """A Redis server that keeps nothing on disk, on a port of its own."""

    def __init__(self) -> None:
        if not shutil.which("redis-server"):
            raise DrillSetupError("redis-server is not installed")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="drill-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, timeout=30
        )
        return result.stdout.decode("utf-8", "replace")

    def start(self) -> TempRedis:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: self.cli("ping").strip() == "PONG", 10, "Redis to start")
        return self

    def stop(self) -> None:
        """Shut down without saving: everything queued is lost."""
        if self.process and self.process.poll() is None:
            self.cli("shutdown", "nosave")
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def dump_everything(self) -> str:
        """Every key and every value, as text, for the secrets search."""
        keys = [k for k in self.cli("--scan").splitlines() if k]
        parts = list(keys)
        for key in keys:
            kind = self.cli("type", key).strip()
            if kind == "string":
                parts.append(self.cli("get", key))
            elif kind == "list":
                parts.append(self.cli("lrange", key, "0", "-1"))
            elif kind == "hash":
                parts.append(self.cli("hgetall", key))
            elif kind == "set":
                parts.append(self.cli("smembers", key))
            elif kind == "zset":
                parts.append(self.cli("zrange", key, "0", "-1"))
        return "\n".join(parts)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


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
        self.beat = CeleryProcess(
            "beat", env=self.env, log_path=self.log_folder / "beat.log", name="beat"
        ).start()
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
        name = f"worker{self._worker_count}"
        worker = CeleryProcess(
            "worker",
            env={**self.env, **env},
            log_path=self.log_folder / f"{name}.log",
            name=name,
            concurrency=concurrency,
        ).start()
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
        from credentials.recipe import credentials_from_passwords
        from people.models import PSU, Campus, Student, User

        psu = PSU.objects.create(code=PSU_CODE, name="Drill County Schools")
        campuses = [
            Campus.objects.create(code=f"{PSU_CODE}{n:03d}", name=f"Drill School {n}", psu=psu)
            for n in range(CAMPUS_COUNT)
        ]
        for start in range(0, self.students, SEED_BATCH):
            numbers = range(start, min(self.students, start + SEED_BATCH))
            made = credentials_from_passwords([f"seed{n:06d}x" for n in numbers])
            Student.objects.bulk_create(
                Student(
                    student_number=f"{8_000_000_000 + n}",
                    first_name="Drill",
                    last_name=f"Student{n}",
                    username=f"drill{n}",
                    psu=psu,
                    campus=campuses[n % CAMPUS_COUNT],
                    grade=GRADES[n % len(GRADES)],
                    default_password_encrypted=new.default_token,
                    password=new.login,
                )
                for n, new in zip(numbers, made, strict=True)
            )
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
