"""Hostile input to the form: arbitrary text, Unicode, huge values, commas and whitespace in
every place. Never a 500; either a valid request or a clear error naming the problem; nothing
queued from an invalid form."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regeneration.models import RegenerationRequest
from tests.helpers import page_text

SEPARATORS = st.sampled_from([",", " ,", ", ", ",,", " , ", "\t,", ",\n", "，"])
TOKENS = st.one_of(
    st.sampled_from(["920304", "920364", "010304", "32B000", "999999", "-5", "0", "13", "-9"]),
    st.text(max_size=12),
    st.text(alphabet="0123456789ABCabc-+ ", max_size=8),
)
LISTS = st.builds(
    lambda tokens, seps: "".join(t + s for t, s in zip(tokens, seps, strict=False)),
    st.lists(TOKENS, max_size=12),
    st.lists(SEPARATORS, max_size=12),
)
FIELD = st.one_of(st.text(), LISTS, st.text(min_size=3000, max_size=6000))
HYPOTHESIS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.django_db
@HYPOTHESIS
@given(
    psu_code=st.one_of(st.text(max_size=10), st.sampled_from(["920", " 920 ", "010", "32b"])),
    campus_codes=FIELD,
    grade_levels=FIELD,
    comments=st.text(max_size=2500),
    reset=st.booleans(),
    force=st.booleans(),
)
def test_any_input_gets_a_valid_request_or_a_clear_error_never_a_500(
    admin920_client, psu_code, campus_codes, grade_levels, comments, reset, force
):
    data = {
        "psu_code": psu_code,
        "campus_codes": campus_codes,
        "grade_levels": grade_levels,
        "comments": comments,
    }
    if reset:
        data["reset_current_passwords"] = "on"
    if force:
        data["force_password_change"] = "on"

    response = admin920_client.post(reverse("regeneration:new"), data)

    assert response.status_code in (200, 302)
    if response.status_code == 200:
        form = response.context["form"]
        assert form.errors, "a form shown again must say what is wrong"
        for field, messages in form.errors.items():
            assert all(message.strip() for message in messages)
            assert f'id="id_{field}_errors"' in response.text
    else:
        confirm = admin920_client.get(response["Location"])
        assert confirm.status_code == 200
        assert "match" in page_text(confirm)
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_a_50_megabyte_post_gets_a_clear_limit_and_changes_nothing(admin920_client):
    response = admin920_client.post(
        reverse("regeneration:new"),
        {"psu_code": "920", "comments": "x" * (50 * 1024 * 1024)},
    )

    assert response.status_code == 400
    assert "too large" in page_text(response)
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_ten_thousand_campus_codes_get_a_clear_limit(admin920_client):
    codes = ",".join([f"920{n:03d}" for n in range(1000)] * 10)  # 10,000 codes, 1,000 distinct

    response = admin920_client.post(
        reverse("regeneration:new"), {"psu_code": "920", "campus_codes": codes}
    )

    assert (
        "Campus Codes can be at most 2,000 characters; this has 69,999. That is room for 200 "
        "campus codes" in page_text(response)
    )


@pytest.mark.django_db
def test_null_characters_are_refused_with_a_message(admin920_client):
    response = admin920_client.post(
        reverse("regeneration:new"), {"psu_code": "920", "comments": "a\x00b"}
    )

    assert "Null characters are not allowed." in page_text(response)
