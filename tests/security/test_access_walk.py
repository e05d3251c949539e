"""Every door, tried: each URL pattern of the project (read from Django's URL resolver, not
from a hand-kept list) is requested with GET and POST as each demo role, as an administrator
of another PSU, as each help-desk role of PSU 920 (the whole PSU, the campus of the student in
the URLs, and another campus of the same PSU), as a signed-in student and signed out. The
objects in the URLs belong to PSU 920: a request of admin920's, a student of campus 920304,
teacher's request for the LEA Administrator role of 920. A pattern this file does not classify
fails the test, so a new door gets checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from catalog.models import Role, RoleAssignment, RoleRequest
from catalog.services import role_request_create
from people.models import PSU, Campus, CredentialEvent, DefaultPasswordDisclosure, Student, User
from regeneration import lifecycle
from regeneration.models import RegenerationOutcome, RegenerationRequest
from rosters.models import Class
from tests.factories import RegenerationRequestFactory, UserFactory, class_taught
from tests.helpers import page_text

# The help-desk roles that may change PSU 920's student come after admin920 (the snapshot).
ROLES = (
    "anonymous",
    "student",
    "teacher",
    "support",
    "admin010",
    "school920high",
    "admin920",
    "helpdesk920",
    "school920",
    "root",
)
STAFF_ROLES = (
    "teacher",
    "support",
    "admin010",
    "admin920",
    "helpdesk920",
    "school920",
    "school920high",
)
HELP_DESK = ("helpdesk920", "school920", "school920high")
# Those whose roles cover student920 (campus 920304), besides admin920.
HELPS_STUDENT920 = ("helpdesk920", "school920")
STAFF_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
STUDENT_LOGIN = "/student/login/"


def all_routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns))


# Policies -----------------------------------------------------------------------------------
# Each maps (role, method) to the answers allowed. An answer is a status code, or
# ("redirect", prefix) for a 302 whose Location starts with prefix.

SIGN_IN_STAFF = ("redirect", STAFF_LOGIN)
SIGN_IN_ADMIN = ("redirect", ADMIN_LOGIN)
SIGN_IN_STUDENT = ("redirect", STUDENT_LOGIN)


def public(role, method):
    """Sign-in pages: anyone may load them and try."""
    return {200, 302, 403, 405, 429}


def staff_signed_in(role, method):
    if role in ("anonymous", "student"):
        return {SIGN_IN_STAFF, 405}
    return {200, 302, 405}


def lea_admin(role, method):
    """The PSU-wide and file requests: LEA Administrators only, the help desks not."""
    if role in ("anonymous", "student"):
        return {SIGN_IN_STAFF, 405}
    if role in ("teacher", "support", "root", *HELP_DESK):
        return {403, 405}
    return {200, 302, 405}


def helps_students(role, method):
    """People and the single-user request: LEA Administrators and the help-desk roles."""
    if role in ("anonymous", "student"):
        return {SIGN_IN_STAFF, 405}
    if role in ("teacher", "support", "root"):
        return {403, 405}
    return {200, 302, 405}


def teacher_page(role, method):
    """*My Students* and its downloads: teachers only (their own classes: the walk's teacher
    teaches the class in the URL); the reset is refused while PSU 920 does not allow it."""
    if role in ("anonymous", "student"):
        return {SIGN_IN_STAFF, 405}
    if role == "teacher":
        return {200, 302, 403, 405}
    return {403, 405}


def superuser_page(role, method):
    if role in ("anonymous", "student"):
        return {SIGN_IN_STAFF, 405}
    if role == "root":
        return {200, 302, 405}
    return {403, 405}


def object_of_920(role, method):
    """Pages of one request of PSU 920 (admin920's): its administrators only. An
    administrator of another PSU, or a help-desk user (who sees only their own requests),
    gets 404, as for an object that does not exist (no existence oracle); a role that does
    not allow the page at all gets 403, whatever the object."""
    if role in ("anonymous", "student"):
        return {SIGN_IN_STAFF, 405}
    if role == "admin920":
        return {200, 302, 405}
    if role == "admin010" or role in HELP_DESK:
        return {404, 405}
    return {403, 405}


def student_of_920304(role, method):
    """Pages of one student of campus 920304: PSU 920's administrators, its LEA Student Help
    Desk, the School Student Help Desk of that campus; 404 for another PSU's administrator
    and for the help desk of another campus of 920."""
    if role in ("admin920", *HELPS_STUDENT920):
        return {200, 302, 405}
    return object_of_920(role, method)


def draft_of_admin920(role, method):
    """admin920's confirm page: the draft lives in admin920's session only."""
    if role == "admin010" or role in HELP_DESK:
        return {("redirect", "/requests/regenerate/"), 405}
    return object_of_920(role, method)


def teachers_of_920(role, method):
    """PSU 920's teachers: an LEA Administrator's page, refused (403) to the help desks."""
    if role in HELP_DESK:
        return {403, 405}
    return object_of_920(role, method)


def approvers(role, method):
    """*Approvals*: LEA Administrators (of any PSU: each sees their own PSUs') and
    superusers."""
    if role in ("anonymous", "student"):
        return {SIGN_IN_STAFF, 405}
    if role in ("admin010", "admin920", "root"):
        return {200, 405}
    return {403, 405}


def role_request_of_teacher(role, method):
    """Pages of teacher's request for LEA Administrator of 920: teacher, 920's
    administrators and superusers; everybody else 404, whatever their role. An action
    refused (teacher approving their own) redirects back with the reason."""
    if role in ("anonymous", "student"):
        return {SIGN_IN_STAFF, 405}
    if role in ("teacher", "admin920", "root"):
        return {200, 302, 405}
    return {404, 405}


def student_page(role, method):
    if role == "student":
        return {200, 302, 405}
    return {SIGN_IN_STUDENT, 405}


def student_logout(role, method):
    if role == "student":
        return {302, 405}
    return {SIGN_IN_STUDENT, 302, 405}


def admin_view(role, method):
    """Admin pages that show: Support reads (a POST there changes nothing: a change form is
    refused, a list without an action only redirects back), nobody but a superuser writes;
    the history records nobody edits."""
    if role not in ("support", "root"):
        return {SIGN_IN_ADMIN, 405}
    if role == "support":
        return {200, 403, 404, ("redirect", "/admin/")} | ({405} if method == "POST" else set())
    return {200, 302, 403, 404, 405}


def admin_write(role, method):
    """Admin pages that add, change or delete: never for Support."""
    if role not in ("support", "root"):
        return {SIGN_IN_ADMIN, 405}
    if role == "support":
        return {403, 404} if method == "POST" else {403, 404, 302}
    return {200, 302, 403, 404, 405}


def admin_public(role, method):
    """Admin sign-in, sign-out and the catch-all redirect."""
    return {200, 302, 404, 405}


def view_on_site(role, method):
    """Redirects reviewers to the object's own page, which checks access itself."""
    if role not in ("support", "root"):
        return {SIGN_IN_ADMIN}
    return {("redirect", "http://testserver/requests/"), ("redirect", "/requests/"), 404}


POLICIES = {
    "": staff_signed_in,
    "roles/request/": staff_signed_in,
    "roles/approvals/": approvers,
    "roles/<int:pk>/": role_request_of_teacher,
    "roles/<int:pk>/decide/": role_request_of_teacher,
    "roles/<int:pk>/withdraw/": role_request_of_teacher,
    "roles/<int:pk>/revoke/": role_request_of_teacher,
    "requests/": staff_signed_in,
    "requests/regenerate/": lea_admin,
    "requests/regenerate/student/": helps_students,
    "requests/regenerate/file/": lea_admin,
    "requests/regenerate/confirm/<uuid:key>/": draft_of_admin920,
    "requests/<int:pk>/": object_of_920,
    "requests/<int:pk>/progress/": object_of_920,
    "requests/<int:pk>/cancel/": object_of_920,
    "requests/<int:pk>/undo/": object_of_920,
    "requests/<int:pk>/passwords.csv": object_of_920,
    "requests/<int:pk>/cards/": object_of_920,
    "my-students/": teacher_page,
    "my-students/<int:pk>/passwords.csv": teacher_page,
    "my-students/<int:pk>/cards/": teacher_page,
    "my-students/<int:pk>/students/<int:student_pk>/reset/": teacher_page,
    "teachers/": lea_admin,
    "teachers/invite/": lea_admin,
    "teachers/psu/<str:code>/": teachers_of_920,
    "rosters/import/": superuser_page,
    "accounts/reset/<uidb64>/<token>/": public,
    "accounts/reset/done/": public,
    "people/": helps_students,
    "people/<int:pk>/": student_of_920304,
    "people/<int:pk>/reveal/": student_of_920304,
    "people/<int:pk>/reset/": student_of_920304,
    "student/": student_page,
    "student/login/": public,
    "student/password/": student_page,
    "student/logout/": student_logout,
    "accounts/login/": public,
    "accounts/logout/": staff_signed_in,
    "accounts/password/": staff_signed_in,
    "accounts/password/done/": staff_signed_in,
    "admin/login/": admin_public,
    "admin/logout/": admin_public,
    "admin/(?P<url>.*)$": admin_public,
    "admin/r/<path:content_type_id>/<path:object_id>/": view_on_site,
}
ADMIN_VIEW_ROUTES = re.compile(
    r"^admin/(|password_change/|password_change/done/|autocomplete/|jsi18n/|\^.*|"
    r"[a-z]+/[a-z]+/(|<path:object_id>/history/|<path:object_id>/change/))$"
)
# admin/<app>/<model>/<id>/ only redirects to the change page (which checks access).
ADMIN_REDIRECT_ROUTES = re.compile(r"^admin/[a-z]+/[a-z]+/<path:object_id>/$")
ADMIN_WRITE_ROUTES = re.compile(
    r"^admin/([a-z]+/[a-z]+/(add/|<path:object_id>/delete/)|people/user/<id>/password/)$"
)


def admin_redirect(role, method):
    if role not in ("support", "root"):
        return {SIGN_IN_ADMIN}
    return {("redirect", "/admin/")}


def policy_for(route: str):
    if route in POLICIES:
        return POLICIES[route]
    if ADMIN_REDIRECT_ROUTES.match(route):
        return admin_redirect
    if ADMIN_WRITE_ROUTES.match(route):
        return admin_write
    if ADMIN_VIEW_ROUTES.match(route):
        return admin_view
    return None


# The world the walk runs in ------------------------------------------------------------------


@dataclass
class Doors:
    request920: RegenerationRequest
    student920: Student
    class920: Class
    draft_key: str
    clients: dict[str, Client]
    admin_objects: dict[tuple[str, str], int]
    role_request: RoleRequest


@pytest.fixture
def doors(world) -> Doors:
    request920 = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, reset_current_passwords=True
    )
    lifecycle.request_run(request_id=request920.pk, budget_seconds=60)
    student920 = world.students(world.psu920).first()
    assert student920.campus == world.elementary
    role_request = role_request_create(
        user=world.teacher, role=Role.LEA_ADMIN, psu=world.psu920, reason="Covering for Renee"
    )
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    clients = {role: Client() for role in ROLES}
    for role in STAFF_ROLES:
        clients[role].force_login(getattr(world, role))
    clients["root"].force_login(root)
    student = world.students(world.psu010).first()
    signed_in = clients["student"].post(
        reverse("students:login"), {"username": student.username, "password": "oldpass42"}
    )
    assert signed_in["Location"] == reverse("students:home")
    response = clients["admin920"].post(reverse("regeneration:new"), {"psu_code": "920"})
    draft_key = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    clients["admin920"].post(reverse("people:reveal", args=[student920.pk]))
    class920 = class_taught(world.teacher, world.elementary, [student920])
    return Doors(
        request920,
        student920,
        class920,
        draft_key,
        clients,
        admin_objects(world, request920, role_request),
        role_request,
    )


def admin_objects(world, request920, role_request) -> dict[tuple[str, str], int]:
    """One object of PSU 920 (or of admin920) per model in admin."""
    outcome = RegenerationOutcome.objects.filter(request=request920).first()
    return {
        ("people", "user"): world.admin920.pk,
        ("people", "psu"): world.psu920.pk,
        ("people", "campus"): world.elementary.pk,
        ("people", "student"): world.students(world.psu920).first().pk,
        ("catalog", "roleassignment"): RoleAssignment.objects.get(user=world.admin920).pk,
        ("catalog", "rolerequest"): role_request.pk,
        ("regeneration", "regenerationrequest"): request920.pk,
        ("regeneration", "regenerationoutcome"): outcome.pk,
        ("people", "defaultpassworddisclosure"): DefaultPasswordDisclosure.objects.get().pk,
        ("people", "credentialevent"): CredentialEvent.objects.create(
            student=world.students(world.psu920).first(),
            kind=CredentialEvent.Kind.RESET_TO_DEFAULT,
            actor=world.admin920,
        ).pk,
        ("auth", "group"): Group.objects.create(name="Walkers").pk,
        ("axes", "accessattempt"): AccessAttempt.objects.create(
            username="someone", failures_since_start=1, ip_address="10.0.0.1"
        ).pk,
    }


def admin_object_id(route: str, doors: Doors) -> str:
    return str(doors.admin_objects.get(tuple(route.split("/")[1:3]), 1))


def concrete_url(route: str, doors: Doors, world) -> str:
    if route == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    if route.startswith("admin/^"):
        return "/admin/regeneration/"
    if route.startswith("admin/r/"):
        content_type = ContentType.objects.get_for_model(RegenerationRequest)
        return f"/admin/r/{content_type.pk}/{doors.request920.pk}/"
    pk = doors.request920.pk
    if route.startswith("people/"):
        pk = doors.student920.pk
    elif route.startswith("roles/"):
        pk = doors.role_request.pk
    elif route.startswith("my-students/"):
        pk = doors.class920.pk
    url = "/" + route
    url = url.replace("<int:pk>", str(pk)).replace("<uuid:key>", doors.draft_key)
    url = url.replace("<int:student_pk>", str(doors.student920.pk)).replace("<str:code>", "920")
    url = url.replace("<uidb64>", "MQ").replace("<token>", "set-password")
    url = url.replace("<path:object_id>", admin_object_id(route, doors))
    return url.replace("<id>", str(world.admin920.pk))


def answer(response):
    if response.status_code == 302:
        return ("redirect", response["Location"])
    return response.status_code


def allowed(got, expected: set) -> bool:
    for option in expected:
        if isinstance(option, tuple) and isinstance(got, tuple):
            if got[1].startswith(option[1]):
                return True
        elif option == got or (option == 302 and isinstance(got, tuple)):
            return True
    return False


# The walk -------------------------------------------------------------------------------------


def test_every_url_pattern_is_classified():
    unclassified = [route for route in all_routes() if policy_for(route) is None]

    assert unclassified == [], "classify these new URLs in tests/test_access_walk.py"


@pytest.mark.django_db
def test_every_door_answers_each_role_as_its_policy_says(doors, world):
    failures = []
    untouched = snapshot_of_920()
    for role in ROLES:  # PSU 920's own administrator and the superuser come last
        if role == "admin920":
            assert snapshot_of_920() == untouched, "a role without rights over 920 changed it"
        for route in all_routes():
            url = concrete_url(route, doors, world)
            for method in ("GET", "POST"):
                client = doors.clients[role]
                response = client.get(url) if method == "GET" else client.post(url, {})
                got = answer(response)
                if not allowed(got, policy_for(route)(role, method)):
                    failures.append(f"{method} {url} as {role}: {got}")
                own_class = role == "teacher" and url.startswith("/my-students/")
                leaked = (
                    ""
                    if role in ("admin920", "root") or own_class
                    else leak_of_920(response, doors, role)
                )
                if leaked:
                    failures.append(f"{method} {url} as {role}: shows {leaked}")
                sign_in_again(role, doors, world)
    assert not failures, "\n".join(failures)


def leak_of_920(response, doors: Doors, role: str) -> str:
    """Anything of PSU 920 that only its administrators may see (and, for student920, the
    help desks whose roles cover that student)."""
    if response.status_code != 200 or getattr(response, "streaming", False):
        return "a download" if getattr(response, "streaming", False) else ""
    body = response.content.decode("utf-8", "replace")
    student = doors.student920
    if f"Request #{doors.request920.pk}:" in body and "admin/" not in response.request["PATH_INFO"]:
        return "the request page"
    if role in HELPS_STUDENT920:
        return ""
    if student.username in body and "admin/" not in response.request["PATH_INFO"]:
        return "a student's page"
    return ""


def snapshot_of_920() -> tuple:
    return (
        list(RegenerationRequest.objects.order_by("id").values_list("id", "status", "comments")),
        list(
            Student.objects.filter(psu__code="920")
            .order_by("id")
            .values_list("id", "username", "default_password_encrypted", "password", "grade")
        ),
        list(RoleAssignment.objects.order_by("id").values_list("user_id", "role", "psu_id")),
        list(
            RoleRequest.objects.order_by("id").values_list(
                "user_id", "role", "psu_id", "decided_by_id", "ends_on"
            )
        ),
        list(PSU.objects.order_by("id").values_list("code", "name")),
        list(Campus.objects.order_by("id").values_list("code", "psu_id")),
        list(User.objects.order_by("id").values_list("username", "is_superuser", "is_active")),
    )


def sign_in_again(role: str, doors: Doors, world) -> None:
    """Sign-out doors end sessions: sign the role in again for the next door."""
    client = doors.clients[role]
    if role in STAFF_ROLES:
        if "_auth_user_id" not in client.session:
            client.force_login(getattr(world, role))
    elif role == "root":
        if "_auth_user_id" not in client.session:
            client.force_login(User.objects.get(username="root"))
    elif role == "student" and client.get(reverse("students:home")).status_code != 200:
        student = world.students(world.psu010).first()
        client.post(
            reverse("students:login"), {"username": student.username, "password": "oldpass42"}
        )


@pytest.mark.django_db
def test_another_psus_objects_answer_as_if_they_did_not_exist(doors, world):
    """Every page of one object, as an administrator of another PSU: the same answer for PSU
    920's object as for an id nobody has."""
    client = doors.clients["admin010"]
    differences = []
    for route in all_routes():
        if "<int:pk>" not in route or route.startswith(("admin/", "my-students/")):
            # A teacher's pages answer admin010, no teacher, 403 whatever the id; a teacher
            # with another's class: test_a_teacher_reaches_only_their_own_classes_...
            continue
        url = concrete_url(route, doors, world)
        missing = "/" + route.replace("<int:pk>", "999999")
        for method in ("get", "post"):
            theirs, nobodys = getattr(client, method)(url), getattr(client, method)(missing)
            if (theirs.status_code, page_text(theirs)) != (nobodys.status_code, page_text(nobodys)):
                differences.append(f"{method.upper()} {url}: {theirs.status_code}")
            elif theirs.status_code not in (404, 405):
                differences.append(f"{method.upper()} {url}: {theirs.status_code}, not 404")
    assert not differences, "\n".join(differences)


@pytest.mark.django_db
def test_every_post_door_refuses_a_request_without_the_csrf_token(doors, world):
    """Signed in as the most powerful roles, a POST without the token is refused everywhere
    (the sign-in pages included, against login CSRF)."""
    failures = []
    for route in all_routes():
        url = concrete_url(route, doors, world)
        for role in ("admin920", "root", "student", "anonymous"):
            client = Client(enforce_csrf_checks=True)
            client.cookies = doors.clients[role].cookies
            response = client.post(url, {"psu_code": "920", "username": "x", "password": "y"})
            if response.status_code not in (403, 405) and not (
                response.status_code == 302
                and response["Location"].startswith(
                    (STAFF_LOGIN, ADMIN_LOGIN, STUDENT_LOGIN, "/admin/r/")
                )
            ):
                if route.startswith("admin/r/") or route == "admin/(?P<url>.*)$":
                    continue  # redirects only, change nothing
                failures.append(f"POST {url} as {role} without CSRF token: {answer(response)}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_a_help_desk_request_answers_its_maker_and_psu_administrators_only(world):
    """Every page of one request made by the School Student Help Desk of 920304 for a
    student of that campus: its maker and 920's administrator open it (its handouts are its
    maker's only, as every request's are); the help desk of
    another campus of 920, the LEA help desk of 920 (not theirs) and another PSU's
    administrator get 404, as for a request nobody has."""
    student = world.students(world.psu920).first()
    maker = Client()
    maker.force_login(world.school920)
    draft = maker.post(
        reverse("regeneration:new_single"),
        {"psu_code": "920", "student_uid": student.student_number},
    )
    maker.post(draft["Location"])
    regeneration = RegenerationRequest.objects.get(requester=world.school920)
    lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60)
    routes = [r for r in all_routes() if r.startswith("<int:pk>") or "requests/<int:pk>" in r]
    failures = []
    for username, allowed_here in (
        ("school920", True),
        ("admin920", True),
        ("school920high", False),
        ("helpdesk920", False),
        ("admin010", False),
    ):
        client = Client()
        client.force_login(getattr(world, username))
        for route in routes:
            url = "/" + route.replace("<int:pk>", str(regeneration.pk))
            got = client.get(url).status_code
            handout = url.endswith(("passwords.csv", "cards/"))
            if username == "admin920" and handout and got == 403:
                continue  # handouts are the requester's only
            if allowed_here and got not in (200, 302, 405):
                failures.append(f"GET {url} as {username}: {got}")
            if not allowed_here and got not in (404, 405):
                failures.append(f"GET {url} as {username}: {got}, not 404")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_a_teacher_reaches_only_their_own_classes_and_nothing_of_another_psu(doors, world):
    """My Students and its downloads as the walk's teacher: their class's student only; a
    class of another teacher of the same campus, and one of PSU 010, answer 404 as an id
    nobody has, and show nothing of those students."""
    classmates = list(world.students(world.psu920).exclude(pk=doors.student920.pk)[:3])
    colleague = class_taught(UserFactory(username="colleague"), world.elementary, classmates, "c2")
    other_psu = class_taught(
        UserFactory(username="teacher010"),
        world.campus010,
        list(world.students(world.psu010)),
        "c3",
    )
    client = doors.clients["teacher"]
    page = page_text(client.get(reverse("rosters:my_students")))
    assert doors.student920.username in page
    hidden = classmates + list(world.students(world.psu010))
    assert not [s.username for s in hidden if s.username in page]
    csv_text = b"".join(client.get(reverse("rosters:class_csv", args=[doors.class920.pk]))).decode()
    assert doors.student920.username in csv_text
    assert not [s.username for s in hidden if s.username in csv_text]
    for other in (colleague, other_psu):
        for name in ("class_csv", "class_cards"):
            theirs = client.get(reverse(f"rosters:{name}", args=[other.pk]))
            nobodys = client.get(reverse(f"rosters:{name}", args=[999999]))
            assert (theirs.status_code, page_text(theirs)) == (404, page_text(nobodys))
        reset = reverse("rosters:class_student_reset", args=[other.pk, classmates[0].pk])
        assert client.post(reset, {}).status_code == 404
    # Their own class, but a student of another class: 404 too.
    reset = reverse("rosters:class_student_reset", args=[doors.class920.pk, classmates[0].pk])
    assert client.post(reset, {}).status_code == 404
