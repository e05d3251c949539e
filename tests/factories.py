"""Factories for the directory, roles and requests. Unsurprising defaults: a student gets a
real encrypted default password and, unless told otherwise, that password as login password."""

from __future__ import annotations

import uuid

import factory
from django.utils import timezone

from catalog.models import RoleAssignment
from credentials.recipe import credentials_for_password
from people.models import PSU, Campus, Student, User
from regeneration.models import RegenerationRequest
from rosters.models import Class, Enrollment, Teacher

STAFF_PASSWORD = "Staff-Test-Pass-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Staffer{n}")
    password = factory.django.Password(STAFF_PASSWORD)


class PSUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PSU
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{100 + n % 900}")
    name = factory.LazyAttribute(lambda p: f"PSU {p.code} Schools")


class CampusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campus
        django_get_or_create = ("code",)

    psu = factory.SubFactory(PSUFactory)
    code = factory.LazyAttributeSequence(lambda c, n: f"{c.psu.code}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"School {n}")


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student
        skip_postgeneration_save = True

    class Params:
        default_password = "oldpass42"
        credentials = factory.LazyAttribute(lambda s: credentials_for_password(s.default_password))

    campus = factory.SubFactory(CampusFactory)
    psu = factory.LazyAttribute(lambda s: s.campus.psu)
    student_number = factory.Sequence(lambda n: f"{9_000_000_000 + n}")
    first_name = "Jordan"
    last_name = factory.Sequence(lambda n: f"Student{n}")
    username = factory.Sequence(lambda n: f"student{n}")
    grade = "5"
    default_password_encrypted = factory.LazyAttribute(lambda s: s.credentials.default_token)
    default_password_set_at = factory.LazyFunction(timezone.now)
    password = factory.LazyAttribute(lambda s: s.credentials.login)


def lea_admin(user: User, *psus: PSU) -> User:
    for psu in psus:
        RoleAssignment.objects.get_or_create(user=user, role=RoleAssignment.Role.LEA_ADMIN, psu=psu)
    return User.objects.get(pk=user.pk)  # fresh: role properties are cached per instance


def help_desk(user: User, *psus: PSU) -> User:
    """LEA Student Help Desk of ``psus``."""
    for psu in psus:
        RoleAssignment.objects.get_or_create(
            user=user, role=RoleAssignment.Role.LEA_HELP_DESK, psu=psu
        )
    return User.objects.get(pk=user.pk)


def school_help_desk(user: User, *campuses: Campus) -> User:
    """School Student Help Desk of ``campuses`` (one role per PSU, with its campuses)."""
    for campus in campuses:
        role, _ = RoleAssignment.objects.get_or_create(
            user=user, role=RoleAssignment.Role.SCHOOL_HELP_DESK, psu=campus.psu
        )
        role.campuses.add(campus)
    return User.objects.get(pk=user.pk)


def support(user: User) -> User:
    RoleAssignment.objects.get_or_create(user=user, role=RoleAssignment.Role.SUPPORT)
    return User.objects.get(pk=user.pk)


class RegenerationRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegenerationRequest

    requester = factory.SubFactory(UserFactory)
    psu = factory.SubFactory(PSUFactory)
    campus_codes = factory.LazyFunction(list)
    grade_levels = factory.LazyFunction(list)
    confirmation_key = factory.LazyFunction(uuid.uuid4)


def class_taught(user, campus, students, sourced_id="walk") -> Class:
    """A class of ``campus`` that ``user`` (made a OneRoster teacher) teaches."""
    teacher, _ = Teacher.objects.get_or_create(
        user=user, defaults={"sourced_id": f"t-{user.username}", "psu": campus.psu}
    )
    roster_class = Class.objects.create(
        sourced_id=sourced_id, title=f"Class {sourced_id}", campus=campus, psu=campus.psu
    )
    Enrollment.objects.create(
        sourced_id=f"{sourced_id}-t", roster_class=roster_class, role="teacher", teacher=teacher
    )
    for student in students:
        Enrollment.objects.create(
            sourced_id=f"{sourced_id}-{student.pk}",
            roster_class=roster_class,
            role="student",
            student=student,
        )
    return roster_class
