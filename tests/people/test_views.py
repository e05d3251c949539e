"""The People module: an LEA administrator's own students, searched, paged and opened; the
default password shown only on request, and every showing recorded."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from people.models import DefaultPasswordDisclosure, Student
from tests.factories import CampusFactory, StudentFactory, UserFactory, lea_admin
from tests.helpers import current_nav_items, page_text, request_through_views


def list_names(response) -> list[str]:
    return [f"{s.last_name}, {s.first_name}" for s in response.context["page"]]


# Scope ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_people_list_shows_only_students_of_the_administrators_psus(client, world):
    client.force_login(world.admin920)

    response = client.get(reverse("people:list"))

    shown = {s.pk for s in response.context["page"]}
    assert shown == set(world.students(world.psu920).values_list("pk", flat=True))
    assert "17 students." in page_text(response)
    assert world.students(world.psu010).first().last_name not in page_text(response)


@pytest.mark.django_db
def test_people_list_refuses_a_campus_of_another_psu_and_shows_no_student(client, world):
    client.force_login(world.admin010)

    response = client.get(reverse("people:list"), {"campus": "920304"})

    text = page_text(response)
    assert "Choose one of your own campuses" in text
    assert "Correct the search above to see students." in text
    assert response.context["page"] is None
    for student in world.students(world.psu920):
        assert student.username not in text


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["detail", "reveal"])
def test_student_of_another_psu_is_not_found_and_nothing_is_recorded(client, world, view):
    student = world.students(world.psu920).first()
    client.force_login(world.admin010)

    url = reverse(f"people:{view}", args=[student.pk])
    response = client.post(url) if view == "reveal" else client.get(url)

    assert response.status_code == 404
    assert student.last_name not in page_text(response)
    assert DefaultPasswordDisclosure.objects.count() == 0


def people_urls(student_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("people:list")),
        ("get", reverse("people:detail", args=[student_id])),
        ("post", reverse("people:reveal", args=[student_id])),
    ]


@pytest.mark.django_db
def test_people_views_send_signed_out_visitors_to_the_staff_sign_in(client, world):
    student = world.students(world.psu920).first()

    for method, url in people_urls(student.pk):
        response = getattr(client, method)(url)

        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
def test_people_views_do_not_admit_a_signed_in_student(client, world):
    student = world.students(world.psu920).first()
    client.post(reverse("students:login"), {"username": student.username, "password": "oldpass42"})
    assert client.get(reverse("students:home")).status_code == 200

    for method, url in people_urls(student.pk):
        response = getattr(client, method)(url)

        assert response["Location"].startswith(reverse("login"))
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["teacher", "support"])
def test_people_views_refuse_staff_without_the_lea_administrator_role(client, world, username):
    student = world.students(world.psu920).first()
    client.force_login(getattr(world, username))

    for method, url in people_urls(student.pk):
        response = getattr(client, method)(url)

        assert response.status_code == 403
        assert "LEA Administrator role" in page_text(response)
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
def test_header_links_to_people_for_lea_administrators_only(client, world):
    client.force_login(world.admin920)
    assert "People" in page_text(client.get(reverse("catalog:index")))

    client.force_login(world.support)
    assert "People" not in page_text(client.get(reverse("catalog:index")))


@pytest.mark.django_db
def test_header_marks_people_as_the_current_page_on_people_pages(admin920_client, world):
    student = world.students(world.psu920).first()

    for url in (reverse("people:list"), reverse("people:detail", args=[student.pk])):
        assert current_nav_items(admin920_client.get(url)) == ["People"]
    reveal = admin920_client.post(reverse("people:reveal", args=[student.pk]))
    assert current_nav_items(reveal) == ["People"]


# Search, filters, pages -----------------------------------------------------------------------


@pytest.fixture
def named_students(world):
    """Three findable students in PSU 920, and a namesake in PSU 010."""
    return {
        "ana": StudentFactory(
            first_name="Ana",
            last_name="Zamora",
            username="azamora11",
            student_number="4400000001",
            campus=world.elementary,
            grade="0",
        ),
        "mary": StudentFactory(
            first_name="Mary Ann",
            last_name="Zapata",
            username="mzapata",
            student_number="4400000002",
            campus=world.high,
            grade="9",
        ),
        "zack": StudentFactory(
            first_name="Zack",
            last_name="Young",
            username="zyoung",
            student_number="5500000003",
            campus=world.high,
            grade="-9",
        ),
        "other_psu": StudentFactory(
            first_name="Ana",
            last_name="Zamora",
            username="azamora22",
            student_number="4400000009",
            campus=world.campus010,
        ),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("za", ["Young, Zack", "Zamora, Ana", "Zapata, Mary Ann"]),
        ("ZAMO", ["Zamora, Ana"]),
        ("ana", ["Zamora, Ana"]),
        ("Ana Zamora", ["Zamora, Ana"]),
        ("Zapata, Mary Ann", ["Zapata, Mary Ann"]),
        ("Mary Ann Zap", ["Zapata, Mary Ann"]),
        ("44000", ["Zamora, Ana", "Zapata, Mary Ann"]),
        ("5500000003", ["Young, Zack"]),
        ("zyou", ["Young, Zack"]),
        ("nobody", []),
    ],
)
def test_people_search_by_name_number_or_username(client, world, named_students, search, expected):
    client.force_login(world.admin920)

    response = client.get(reverse("people:list"), {"q": search})

    assert list_names(response) == expected
    if not expected:
        assert "No student matches this search." in page_text(response)


@pytest.mark.django_db
def test_people_filters_by_campus_and_grade(client, world, named_students):
    client.force_login(world.admin920)

    by_campus = client.get(reverse("people:list"), {"campus": "920364", "q": "z"})
    by_grade = client.get(reverse("people:list"), {"grade": "-9", "q": "z"})
    both = client.get(reverse("people:list"), {"campus": "920364", "grade": "9"})

    assert list_names(by_campus) == ["Young, Zack", "Zapata, Mary Ann"]
    assert list_names(by_grade) == ["Young, Zack"]
    assert {s.campus.code for s in both.context["page"]} == {"920364"}
    assert {s.grade for s in both.context["page"]} == {"9"}
    assert both.context["page"].paginator.count == 6  # 5 from the world, and Mary Ann


@pytest.mark.django_db
def test_people_list_pages_through_students_fifty_at_a_time(client, world):
    StudentFactory.create_batch(60, campus=world.elementary, last_name="Paged")
    client.force_login(world.admin920)

    first = client.get(reverse("people:list"), {"q": "Paged"})
    second = client.get(reverse("people:list"), {"q": "Paged", "page": 2})

    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 10
    assert "60 students, page 1 of 2." in page_text(first)
    assert 'href="?q=Paged&amp;page=2"' in first.content.decode()
    assert not {s.pk for s in first.context["page"]} & {s.pk for s in second.context["page"]}


@pytest.mark.django_db
@pytest.mark.parametrize("search", ["", "s"])
def test_people_pages_together_are_every_match_once_in_name_order(client, world, search):
    """Pages are read by id, then their rows (``IdsFirstPaginator``); a search is sorted by
    an expression instead of the name index: either way page after page is name order."""
    names = ["Smith", "Sams", "adams", "Stone", "Zane", "Silva", "sanders", "Baker"]
    for i in range(130):
        StudentFactory(campus=world.elementary, last_name=names[i % 8], first_name=f"S{i:03d}")
    client.force_login(world.admin920)

    pages = [client.get(reverse("people:list"), {"q": search, "page": n}) for n in (1, 2, 3)]

    shown = [name for page in pages for name in list_names(page)]
    expected = [
        f"{s.last_name}, {s.first_name}"
        for s in world.students(world.psu920).order_by("last_name", "first_name", "id")
        if any(v.lower().startswith(search) for v in (s.last_name, s.first_name, s.username))
    ]
    assert shown == expected
    assert len(shown) == pages[0].context["page"].paginator.count > 100


@pytest.mark.django_db
def test_people_campus_choice_lists_own_campuses_escaped_and_keeps_the_chosen_one(client, world):
    CampusFactory(code="920999", name="<b>Fuquay</b> & Varina", psu=world.psu920)
    client.force_login(world.admin920)

    html = client.get(reverse("people:list"), {"campus": "920364"}).content.decode()

    select = html[html.index('<select name="campus"') : html.index("</select>")]
    assert '<option value="">All</option>' in select
    assert '<option value="920364" selected>920364 Enloe High</option>' in select
    assert '<option value="920304">920304 Apex Elementary</option>' in select
    assert "920999 &lt;b&gt;Fuquay&lt;/b&gt; &amp; Varina" in select
    assert "010" not in select  # the other PSU's campus


@pytest.mark.django_db
def test_people_list_query_count_does_not_grow_with_students(
    client, world, django_assert_num_queries
):
    client.force_login(world.admin920)
    # session, user, the user's roles (PSUs and Support, one query), the chosen campus,
    # count, the page's ids and then its rows, the role requests waiting for approval and the
    # teacher role (header), campus choices, and saving the session (savepoint, update,
    # release)
    with django_assert_num_queries(13):
        small = client.get(reverse("people:list"), {"campus": "920304", "q": "Stu"})
    StudentFactory.create_batch(80, campus=world.elementary)
    with django_assert_num_queries(13):
        large = client.get(reverse("people:list"), {"campus": "920304", "q": "Stu"})

    assert len(small.context["page"]) == 10
    assert len(large.context["page"]) == 50


# A student's page and the reveal ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_student_page_shows_school_grade_username_sign_in_and_the_request_that_changed_it(
    client, world, finish_requests
):
    client.force_login(world.admin920)
    regeneration = request_through_views(
        client,
        psu_code="920",
        campus_codes="920364",
        grade_levels="9",
        reset_current_passwords="on",
        force_password_change="on",
        finish=finish_requests,
    )
    student = world.students(world.psu920).filter(campus=world.high, grade="9").first()

    response = client.get(reverse("people:detail", args=[student.pk]))

    text = page_text(response)
    assert f"Student number {student.student_number}" in text
    assert f"Username {student.username}" in text
    assert "School Enloe High (920364), PSU 920 Wake County Schools" in text
    assert "Grade 9" in text
    assert "Last sign-in Never signed in" in text
    assert (
        "Change required at next sign-in Yes: the student must choose a new password at "
        "their next sign-in" in text
    )
    assert f"by request #{regeneration.pk}" in text
    assert f'href="{regeneration.get_absolute_url()}"' in response.content.decode()
    assert (
        f"Login password Reset by a regeneration request: the password of request "
        f"#{regeneration.pk} Set on" in text
    )
    assert "Not used to sign in yet; it expires on" in text
    assert "Signed in since the last reset No" in text


@pytest.mark.django_db
def test_student_page_of_a_never_regenerated_student_says_so(admin920_client, world):
    student = world.students(world.psu920).first()
    Student.objects.filter(pk=student.pk).update(last_login=timezone.now())

    text = page_text(admin920_client.get(reverse("people:detail", args=[student.pk])))

    assert "Not regenerated since it was set on" in text
    assert "Change required at next sign-in No" in text
    assert "Never signed in" not in text


@pytest.mark.django_db
def test_student_page_masks_the_default_password(admin920_client, world):
    student = world.students(world.psu920).first()

    response = admin920_client.get(reverse("people:detail", args=[student.pk]))

    assert "oldpass42" not in response.content.decode()
    assert student.default_password_encrypted not in response.content.decode()
    assert "Show" in page_text(response)
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
def test_show_reveals_the_default_password_uncached_and_records_who_whose_when_where(
    admin920_client, world
):
    student = world.students(world.psu920).first()
    before = timezone.now()

    response = admin920_client.post(
        reverse("people:reveal", args=[student.pk]), REMOTE_ADDR="10.1.2.3"
    )

    assert "Default password oldpass42" in page_text(response)
    assert "no-store" in response["Cache-Control"]
    disclosure = DefaultPasswordDisclosure.objects.get()
    assert disclosure.kind == DefaultPasswordDisclosure.Kind.REVEAL
    assert (disclosure.actor, disclosure.student, disclosure.psu) == (
        world.admin920,
        student,
        world.psu920,
    )
    assert disclosure.request_number is None and disclosure.student_count == 1
    assert disclosure.ip == "10.1.2.3"
    assert before <= disclosure.at <= timezone.now()


@pytest.mark.django_db
def test_show_is_a_post_with_a_csrf_token(world):
    student = world.students(world.psu920).first()
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin920)

    as_get = client.get(reverse("people:reveal", args=[student.pk]))
    without_token = client.post(reverse("people:reveal", args=[student.pk]))

    assert as_get.status_code == 405
    assert without_token.status_code == 403
    assert "oldpass42" not in as_get.content.decode() + without_token.content.decode()
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
def test_show_answers_503_naming_the_key_when_the_password_cannot_be_decrypted(
    admin920_client, world, settings
):
    student = world.students(world.psu920).first()
    settings.DEFAULT_PASSWORD_KEYS = [Fernet.generate_key().decode()]

    response = admin920_client.post(reverse("people:reveal", args=[student.pk]))

    assert response.status_code == 503
    assert (
        "A default password cannot be decrypted with the keys in DEFAULT_PASSWORD_KEYS: the "
        "key that encrypted it is missing or wrong." in page_text(response)
    )
    assert "Traceback" not in response.content.decode()
    assert "Nothing was shown" in page_text(response)
    assert student.default_password_encrypted not in response.content.decode()
    assert "oldpass42" not in response.content.decode()
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
def test_any_administrator_of_the_psu_may_show_a_students_password(client, world):
    student = world.students(world.psu920).first()
    colleague = lea_admin(UserFactory(username="admin920b"), world.psu920)
    client.force_login(colleague)

    response = client.post(reverse("people:reveal", args=[student.pk]))

    assert "Default password oldpass42" in page_text(response)
    assert DefaultPasswordDisclosure.objects.get().actor == colleague
