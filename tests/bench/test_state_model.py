"""The model of the state day's order (``python -m bench state-model``)."""

from __future__ import annotations

from bench import state_model


def test_a_small_request_confirmed_while_a_district_runs_waits_for_a_chunk_only():
    # 100,000 students at 10,000/s on 2 lanes: a 2,000-student chunk takes 0.4 s a lane.
    district, charter = state_model.model(
        [100_000, 500], students_per_s=10_000, submit_seconds=3, lanes=2
    )

    assert charter.arrival == 3
    assert charter.finished_at - charter.arrival <= 0.4 + 500 / 5_000
    assert district.finished_at > charter.finished_at


def test_an_overdue_request_gets_its_first_chunk_ahead_of_smaller_ones():
    # The largest first, then a second district among a stream of smaller requests that
    # arrive faster than the lanes serve them (90,000 students in 60 s at 2,000/s).
    sizes = [40_000, 20_000] + [3_000] * 30
    strict = state_model.model(sizes, students_per_s=2_000, first_chunk_seconds=1e9)
    bounded = state_model.model(sizes, students_per_s=2_000, first_chunk_seconds=5)

    def worst_wait(requests):
        return max(r.first_chunk_at - r.arrival for r in requests)

    assert worst_wait(bounded) < 10 < worst_wait(strict)


def test_the_figures_divide_each_request_s_time_by_its_time_alone():
    requests = state_model.model([8_000], students_per_s=10_000, submit_seconds=0)

    figures = state_model.figures(requests, students_per_s=10_000, overhead_seconds=0)

    assert figures["seconds"] == 0.8  # four chunks of 2,000, two at a time at 5,000/s each
    assert figures["slowdown_max"] == 1.0
