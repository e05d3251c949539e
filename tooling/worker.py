"""Celery worker and beat processes for the tests, the benchmark and the fault drills: one
launcher, each process in its own process group (so a drill can kill it whole), logging to a
file that is read to know when the worker is ready."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 60


class CeleryProcess:
    """``celery -A ncedcloud worker`` (or ``beat``) with ``env``, logging to ``log_path``."""

    def __init__(
        self,
        kind: str,
        *,
        env: dict[str, str],
        log_path: Path,
        name: str,
        queue: str = "regeneration",
        concurrency: int = 1,
    ) -> None:
        if kind not in ("worker", "beat"):
            raise ValueError(f"kind is worker or beat, not {kind!r}")
        self.kind = kind
        self.env = env
        self.log_path = Path(log_path)
        self.name = name
        self.queue = queue
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "celery", "-A", "ncedcloud", self.kind, "--loglevel=INFO"]
        if self.kind == "beat":
            return [*command, "--schedule", str(self.log_path.with_suffix(".schedule"))]
        return [
            *command,
            f"--concurrency={self.concurrency}",
            "-Q",
            self.queue,
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{self.name}@%h",
        ]

    def start(self, *, wait: bool = True) -> CeleryProcess:
        """Start the process; a worker is waited for until it is ready to take tasks (unless
        ``wait`` is false: then call ``wait_ready``, e.g. after starting several at once)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        if self.kind != "worker":
            return
        deadline = time.monotonic() + READY_SECONDS
        while "ready." not in self.log():
            if not self.alive() or time.monotonic() > deadline:
                self.kill_group()
                raise RuntimeError(f"Celery worker {self.name} did not start:\n{self.log()}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> list[int]:
        """The pool processes of a worker."""
        result = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True)
        return [int(pid) for pid in result.stdout.split()]

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """The process and its pool, at once."""
        if self.alive():
            os.killpg(self.pid, sig)
            self.process.wait(timeout=60)

    def terminate(self, timeout: float = 60) -> None:
        """Warm shutdown: finish the task in hand, then exit (killed after ``timeout``)."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill_group()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def database_url(settings_dict: dict) -> str:
    """A PostgreSQL URL for a subprocess to use the database of ``settings_dict`` (the test
    database under pytest)."""
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def session_priority_set(pid: int, nice: int) -> int:
    """Give the processes of ``pid``'s session (started with ``start_new_session``, so its
    process group too) the CPU weight of ``nice`` against other processes, as a service's
    CPU weight (docker-compose.yml's ``cpu_shares``) sets it against other services.
    Linux shares a core between sessions first (autogroups) when it can, so the session's
    autogroup gets the nice value; each process gets it too, for when it cannot. A nice
    value below 0 needs CAP_SYS_NICE (root): without it, nothing changes. Returns the nice
    value in force, read back (the autogroup's, else the process's)."""
    autogroup = Path(f"/proc/{pid}/autogroup")
    try:
        os.setpriority(os.PRIO_PGRP, pid, nice)
        autogroup.write_text(f"{nice}\n")
    except PermissionError:
        pass
    except OSError:  # no autogroups (a kernel without them, or a container's cgroup)
        return os.getpriority(os.PRIO_PROCESS, pid)
    try:
        return int(autogroup.read_text().split("nice")[1])
    except OSError:
        return os.getpriority(os.PRIO_PROCESS, pid)
