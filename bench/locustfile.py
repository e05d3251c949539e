"""The simulated staff of ``make bench-web`` (``bench/web.py`` runs locust with this file; it
is not meant to be run on its own): administrators polling their request's progress every
2 s, as the request page does, and administrators opening People pages and confirm pages.

It runs in locust's own process, without Django. ``bench/web.py`` hands it a plan (JSON, in
BENCH_WEB_PLAN: the users' sessions, their requests, their PSUs) and reads back every
request's end time, page, response time and whether it failed (BENCH_WEB_RESULTS), so that
percentiles are exact and counted over the phase's window only. Loopback only.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path
from urllib.parse import urlsplit

import gevent
from locust import FastHttpUser, between, events, task

POLL_SECONDS = 2  # as the request page polls
PLAN = json.loads(Path(os.environ["BENCH_WEB_PLAN"]).read_text())
LOOPBACK = ("127.0.0.1", "localhost", "::1")
samples: list[tuple[float, str, float, str | None]] = []  # end, page, ms, why it failed


@events.init.add_listener
def _loopback_only(environment, **kwargs) -> None:
    if urlsplit(environment.host or "").hostname not in LOOPBACK:
        raise SystemExit(f"bench web sends traffic to loopback only, not to {environment.host}")


@events.request.add_listener
def _record(request_type, name, response_time, exception, **kwargs) -> None:
    samples.append(
        (time.time(), name, response_time, None if exception is None else str(exception))
    )


@events.quitting.add_listener
def _write_results(environment, **kwargs) -> None:
    Path(os.environ["BENCH_WEB_RESULTS"]).write_text(json.dumps(samples))


def own_pace(user: Administrator) -> float:
    """The wait until the user's next poll: every POLL_SECONDS from their own first poll.

    Not locust's ``constant_pacing``, which paces from the moment the user was made: it
    counted the random wait in ``on_start`` as the first poll's run time and so brought
    every administrator back in step, all 200 polls within a tenth of a second every 2 s
    (the queue of that burst was what the progress figures measured)."""
    user.next_poll += POLL_SECONDS
    return max(0.0, user.next_poll - time.monotonic())


class Administrator(FastHttpUser):
    """Polls the progress of their request every 2 s, as the request page does, each from
    their own moment; switches to the request confirmed for their PSU in the state run as
    soon as it exists."""

    fixed_count = len(PLAN["pollers"])
    wait_time = own_pace
    slots = itertools.count()

    def on_start(self) -> None:
        self.slot = next(self.slots) % len(PLAN["pollers"])
        poller = PLAN["pollers"][self.slot]
        self.headers = {"Cookie": f"sessionid={poller['session']}"}
        self.request_id = poller["request"]
        self.switched = False
        gevent.sleep(random.uniform(0, POLL_SECONDS))  # pages opened at different moments
        self.next_poll = time.monotonic()

    @task
    def progress(self) -> None:
        self._follow_the_new_request()
        with self.client.get(
            f"/requests/{self.request_id}/progress/",
            name="progress",
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "percent" not in (response.text or ""):
                response.failure(f"progress answered {response.status_code}")

    def _follow_the_new_request(self) -> None:
        new_requests = PLAN.get("new_requests_file")
        if self.switched or not new_requests or not os.path.exists(new_requests):
            return
        confirmed = json.loads(Path(new_requests).read_text())
        if str(self.slot) in confirmed:
            self.request_id = confirmed[str(self.slot)]
            self.switched = True


class Browser(FastHttpUser):
    """Opens People pages (the list, a search, a campus, a later page) and confirm pages (the
    form's POST for the whole PSU, then the confirm page with its counts), a page every 1 to
    3 s. Nothing is confirmed."""

    fixed_count = len(PLAN["browsers"])
    wait_time = between(1, 3)
    slots = itertools.count()

    def on_start(self) -> None:
        self.slot = next(self.slots) % len(PLAN["browsers"])
        self.me = PLAN["browsers"][self.slot]
        self.csrf = PLAN["csrf_secret"]
        self.headers = {"Cookie": f"sessionid={self.me['session']}; csrftoken={self.csrf}"}
        self.random = random.Random(self.slot)

    @task
    def people(self) -> None:
        choice = self.random.choice(("list", "search", "campus", "page"))
        query = {
            "list": "",
            "search": f"?q={self.random.choice(PLAN['name_prefixes'])}",
            "campus": f"?campus={self.random.choice(self.me['campus_codes'])}",
            "page": f"?page={self.random.randint(2, max(2, self.me['pages']))}",
        }[choice]
        with self.client.get(
            f"/people/{query}",
            name="people",
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "<h1>People</h1>" not in (response.text or ""):
                response.failure(f"People answered {response.status_code}")

    @task
    def confirm_page(self) -> None:
        with self.client.post(
            "/requests/regenerate/",
            name="request (form POST)",
            headers=self.headers,
            data={
                "csrfmiddlewaretoken": self.csrf,
                "psu_code": self.me["psu_code"],
                "campus_codes": "",
                "grade_levels": "",
                "comments": "bench web",
            },
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "") if response.headers else ""
            if response.status_code != 302 or "/confirm/" not in location:
                response.failure(f"the form answered {response.status_code} {location}")
                return
        with self.client.get(
            urlsplit(location).path,
            name="confirm",
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or 'data-testid="match-total"' not in (
                response.text or ""
            ):
                response.failure(f"the confirm page answered {response.status_code}")
