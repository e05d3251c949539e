"""Every rule of the form, with the exact message shown next to its field."""

from __future__ import annotations

from unittest import mock

import pytest

from regeneration.forms import RegenerationRequestForm, split_list
from tests.factories import CampusFactory

ALLOWED = "-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, -9"


def submit(user, **data):
    form = RegenerationRequestForm({"psu_code": "920", **data}, user=user)
    form.is_valid()
    return form


@pytest.mark.django_db
def test_minimal_form_targets_every_campus_and_grade_of_the_psu(world):
    form = submit(world.admin920)

    assert form.is_valid()
    assert form.request_values() == {
        "selection": "filters",
        "psu_code": "920",
        "campus_codes": [],
        "grade_levels": [],
        "reset_current_passwords": False,
        "force_password_change": False,
        "comments": "",
    }


@pytest.mark.django_db
def test_psu_code_is_trimmed_and_upper_cased(world):
    assert submit(world.adminmulti, psu_code=" 32b ").request_values()["psu_code"] == "32B"


@pytest.mark.django_db
def test_psu_code_is_required(world):
    form = RegenerationRequestForm({"psu_code": "  "}, user=world.admin920)

    assert form.errors["psu_code"] == ["This field is required."]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["92", "9200", "9-0", "92 0", "٩٢٠"])
def test_malformed_psu_code_is_named_and_explained(world, code):
    form = submit(world.admin920, psu_code=code)

    assert form.errors["psu_code"] == [
        f"“{code.upper()}” is not a PSU code: a PSU code is 3 digits or letters, "
        "such as 920 or 32B."
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["010", "999"])
def test_psu_not_administered_by_the_requester_is_refused(world, code):
    form = submit(world.admin920, psu_code=code)

    assert form.errors["psu_code"] == [
        f"You are not an LEA Administrator of PSU “{code}”, so you cannot request for it."
    ]


@pytest.mark.django_db
def test_campus_codes_accept_whitespace_around_commas_and_collapse_duplicates(world):
    form = submit(world.admin920, campus_codes=" 920304 ,920364,  920304,, ")

    assert form.request_values()["campus_codes"] == ["920304", "920364"]


@pytest.mark.django_db
def test_campus_codes_are_case_insensitive(world):
    CampusFactory(code="920ABC", psu=world.psu920)

    form = submit(world.admin920, campus_codes="920abc")

    assert form.request_values()["campus_codes"] == ["920ABC"]


@pytest.mark.django_db
def test_every_bad_campus_code_is_listed_with_its_reason(world):
    form = submit(world.admin920, campus_codes="010304, 12AB, 920304, 999999, 1234567")

    assert form.errors["campus_codes"] == [
        "Campus “010304” belongs to PSU 010, not to PSU 920.",
        "“12AB” is not a campus code: a campus code is 6 letters or digits.",
        "Campus code “999999” does not exist.",
        "“1234567” is not a campus code: a campus code is 6 letters or digits.",
    ]


@pytest.mark.django_db
def test_campus_codes_are_still_checked_when_the_psu_is_refused(world):
    form = submit(world.admin920, psu_code="010", campus_codes="12AB, 999999")

    assert form.errors["campus_codes"] == [
        "“12AB” is not a campus code: a campus code is 6 letters or digits.",
        "Campus code “999999” does not exist.",
    ]


@pytest.mark.django_db
def test_campus_codes_differing_only_in_case_collapse_into_one(world):
    form = submit(world.admin920, campus_codes="920abc, 920ABC, 920Abc")

    assert form.errors["campus_codes"] == ["Campus code “920ABC” does not exist."]


@pytest.mark.django_db
def test_too_many_campus_codes_get_a_clear_limit(world):
    codes = ",".join(f"{n:06d}" for n in range(250))

    form = submit(world.admin920, campus_codes=codes)

    assert form.errors["campus_codes"] == [
        "Enter at most 200 campus codes; this list has 250. Leave the field empty to "
        "target every campus of the PSU."
    ]


@pytest.mark.django_db
def test_a_campus_code_list_longer_than_the_limit_allows_is_refused_before_it_is_read(world):
    """16,000 codes once held a web worker for 10 s: the length is checked first, in one
    step, and the list is never split."""
    codes = ", ".join(f"{n:06d}" for n in range(16_000))

    with mock.patch("regeneration.forms.split_list") as split:
        form = submit(world.admin920, campus_codes=codes)

    assert form.errors["campus_codes"] == [
        "Campus Codes can be at most 2,000 characters; this has 127,998. That is room for 200 "
        "campus codes; leave the field empty to target every campus of the PSU."
    ]
    assert all(call.args[0] != codes for call in split.call_args_list)


@pytest.mark.django_db
def test_the_campus_code_length_follows_the_limit_on_codes(world, settings):
    settings.REGENERATION_MAX_CAMPUS_CODES = 3
    fits = submit(world.admin920, campus_codes="920304 , 920364 , 920304")
    too_long = submit(world.admin920, campus_codes="920304, 920364, 920304, 920364, 920")

    assert fits.request_values()["campus_codes"] == ["920304", "920364"]
    assert too_long.errors["campus_codes"][0].startswith(
        "Campus Codes can be at most 30 characters; this has 35."
    )


@pytest.mark.django_db
def test_grade_levels_longer_than_the_limit_are_refused_with_the_allowed_list(world):
    form = submit(world.admin920, grade_levels=", ".join(["5"] * 300))

    assert form.errors["grade_levels"] == [
        "Grade Levels can be at most 500 characters; this has 898. There are 20 grade levels: "
        f"{ALLOWED}; leave the field empty for every grade."
    ]


def test_splitting_a_list_keeps_the_first_of_each_value_in_order():
    assert split_list(" b, a ,b,, c ,a ") == ["b", "a", "c"]
    assert split_list("x, X", normalise=lambda item: item.strip().upper()) == ["X"]
    many = ",".join(str(n % 1000) for n in range(100_000))
    assert split_list(many) == [str(n) for n in range(1000)]


@pytest.mark.django_db
def test_grade_levels_accept_every_allowed_value_in_the_help_texts_order(world):
    form = submit(world.admin920, grade_levels="-9, 13 ,0,-5,  12, 0")

    assert form.request_values()["grade_levels"] == ["-5", "0", "12", "13", "-9"]


@pytest.mark.django_db
def test_one_grade_outside_the_list_fails_the_form_and_lists_the_allowed_grades(world):
    form = submit(world.admin920, grade_levels="5, 14")

    assert form.errors["grade_levels"] == [
        "“14” is not an allowed grade level, so nothing was requested. "
        f"Allowed grade levels: {ALLOWED}."
    ]


@pytest.mark.django_db
def test_every_grade_outside_the_list_is_named(world):
    form = submit(world.admin920, grade_levels="K, 05, -10, 1.0")

    assert form.errors["grade_levels"] == [
        "“K”, “05”, “-10” and “1.0” are not allowed grade levels, so nothing was requested. "
        "Kindergarten is grade level 0: enter 0 for “K”. "
        f"Allowed grade levels: {ALLOWED}."
    ]


@pytest.mark.django_db
def test_comments_over_the_limit_get_a_clear_limit(world):
    form = submit(world.admin920, comments="x" * 2001)

    assert form.errors["comments"] == [
        "Request comments can be at most 2,000 characters; these have 2,001."
    ]


@pytest.mark.django_db
def test_force_without_reset_is_recorded_as_asked(world):
    form = submit(world.admin920, force_password_change="on")

    assert form.request_values()["force_password_change"] is True
    assert form.request_values()["reset_current_passwords"] is False


@pytest.mark.django_db
def test_a_long_bad_value_is_cut_short_in_the_message(world):
    form = submit(world.admin920, grade_levels="9" * 300)

    assert form.errors["grade_levels"][0].startswith(f"“{'9' * 23}…” is not an allowed grade level")
