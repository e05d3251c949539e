"""What the drills found: one row per fault (counted by the witness trigger, not by the
app's own outcome rows), the search for generated passwords, and the printed table."""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass, field


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


def secrets_check(env, report: DrillReport) -> None:
    """Search every password the drills generated in the logs, Redis and the pages."""
    from credentials.crypto import DefaultPasswordDecryptionError, decrypt_default_password
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
