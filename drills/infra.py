"""Throw-away services for the fault drills: a PostgreSQL cluster, a Redis server, Celery
worker and beat processes. Each can be killed and restarted without touching the machine's
own services."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql")


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


class CeleryProcess:
    """A Celery worker or beat in its own process group, logging to a file."""

    def __init__(self, kind: str, env: dict[str, str], log_folder: Path, name: str) -> None:
        self.kind = kind
        self.env = env
        self.name = name
        self.log_path = log_folder / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, *extra: str) -> CeleryProcess:
        command = [sys.executable, "-m", "celery", "-A", "ncedcloud", self.kind, "--loglevel=INFO"]
        if self.kind == "worker":
            command += [
                "-Q",
                "regeneration",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{self.name}@%h",
            ]
        else:
            command += ["--schedule", str(self.log_path.with_suffix(".schedule"))]
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [*command, *extra],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.kind == "worker":
            wait_for(lambda: "ready." in self.log_path.read_text(), 60, f"{self.name} to start")
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> list[int]:
        result = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True)
        return [int(pid) for pid in result.stdout.split()]

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            os.killpg(self.pid, sig)
            self.process.wait(timeout=60)

    def terminate(self, timeout: float = 60) -> None:
        """Warm shutdown: finish the task in hand, then exit."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill_group()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
