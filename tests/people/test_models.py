"""Directory rules the database itself enforces, not only the forms."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from people.models import PSU, Student
from tests.factories import CampusFactory, PSUFactory, StudentFactory


@pytest.mark.django_db
@pytest.mark.parametrize("grade", ["14", "K", "-6", "00", ""])
def test_student_with_grade_outside_the_allowed_set_is_rejected_by_the_database(grade):
    student = StudentFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Student.objects.filter(pk=student.pk).update(grade=grade)


@pytest.mark.django_db
@pytest.mark.parametrize("grade", ["-5", "0", "13", "-9"])
def test_student_with_an_allowed_grade_is_stored(grade):
    student = StudentFactory(grade=grade)

    assert Student.objects.get(pk=student.pk).grade == grade


@pytest.mark.django_db
def test_student_campus_of_other_psu_is_rejected_by_the_database():
    student = StudentFactory(campus=CampusFactory(code="920304", psu=PSUFactory(code="920")))
    foreign_campus = CampusFactory(code="010304", psu=PSUFactory(code="010"))

    with pytest.raises(IntegrityError), transaction.atomic():
        Student.objects.filter(pk=student.pk).update(campus=foreign_campus)
    with pytest.raises(IntegrityError), transaction.atomic():
        StudentFactory(campus=foreign_campus, psu=student.psu)

    assert Student.objects.get(pk=student.pk).campus.code == "920304"


@pytest.mark.django_db
def test_psu_code_that_is_not_three_digits_or_capitals_is_rejected_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        PSU.objects.create(code="92", name="Too short")
    with pytest.raises(IntegrityError), transaction.atomic():
        PSU.objects.create(code="32b", name="Lower case")

    assert PSU.objects.create(code="32B", name="Charter").code == "32B"
