"""Demo data of the directory: three PSUs, their campuses and students. The staff accounts
and their roles are ``catalog.demo``'s (roles sit above the directory).

Everything is derived from fixed seeds, so running it twice changes nothing: existing rows
are kept as they are (passwords included) and only what is missing is created.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.utils import timezone

from credentials.recipe import credentials_new

from .models import PSU, Campus, Student

EARLY = ("-5", "-4", "-3", "-2", "-1", "0", "1", "2", "3", "4", "5")
MIDDLE = ("6", "7", "8")
HIGH = ("9", "10", "11", "12", "13", "-9")
ALL_GRADES = EARLY + MIDDLE + HIGH


@dataclass(frozen=True)
class DemoCampus:
    code: str
    name: str
    grades: tuple[str, ...]
    students: int


@dataclass(frozen=True)
class DemoPSU:
    code: str
    name: str
    number_prefix: str
    campuses: tuple[DemoCampus, ...]


DEMO_PSUS = (
    DemoPSU(
        "920",
        "Wake County Schools",
        "1",
        (
            DemoCampus("920304", "Apex Elementary", EARLY, 220),
            DemoCampus("920312", "Brier Creek Elementary", EARLY, 220),
            DemoCampus("920330", "Carnage Middle", MIDDLE, 180),
            DemoCampus("920348", "Davis Drive Middle", MIDDLE, 180),
            DemoCampus("920364", "Enloe High", HIGH, 200),
            DemoCampus("920372", "Green Hope High", HIGH, 200),
        ),
    ),
    DemoPSU(
        "010",
        "Alamance-Burlington Schools",
        "2",
        (
            DemoCampus("010304", "Alexander Wilson Elementary", EARLY, 150),
            DemoCampus("010316", "Broadview Middle", MIDDLE, 110),
            DemoCampus("010330", "Cummings High", HIGH, 140),
        ),
    ),
    DemoPSU(
        "32B",
        "Kestrel Heights Charter",
        "3",
        (DemoCampus("32B000", "Kestrel Heights School", ALL_GRADES, 150),),
    ),
)

FIRST_NAMES = (
    "Aaliyah",
    "Aiden",
    "Amara",
    "Andre",
    "Ava",
    "Benjamin",
    "Brianna",
    "Caleb",
    "Camila",
    "Carlos",
    "Chloe",
    "Daniel",
    "Destiny",
    "Diego",
    "Elijah",
    "Emily",
    "Emma",
    "Ethan",
    "Gabriel",
    "Grace",
    "Hannah",
    "Isaiah",
    "Jackson",
    "Jada",
    "Jayden",
    "Jose",
    "Joshua",
    "Kayla",
    "Kevin",
    "Layla",
    "Liam",
    "Lucas",
    "Madison",
    "Malik",
    "Maria",
    "Mason",
    "Mia",
    "Michael",
    "Naomi",
    "Nathan",
    "Noah",
    "Olivia",
    "Priya",
    "Samuel",
    "Sofia",
    "Tariq",
    "Trinity",
    "Valeria",
    "William",
    "Xavier",
    "Yusuf",
    "Zoe",
)
LAST_NAMES = (
    "Adams",
    "Allen",
    "Baker",
    "Barnes",
    "Bell",
    "Brooks",
    "Brown",
    "Campbell",
    "Carter",
    "Chavez",
    "Clark",
    "Collins",
    "Cooper",
    "Davis",
    "Diaz",
    "Edwards",
    "Evans",
    "Flores",
    "Garcia",
    "Gonzalez",
    "Green",
    "Hall",
    "Harris",
    "Hernandez",
    "Hill",
    "Jackson",
    "Johnson",
    "Jones",
    "Kim",
    "King",
    "Lee",
    "Lewis",
    "Lopez",
    "Martin",
    "Martinez",
    "McNeill",
    "Mitchell",
    "Moore",
    "Morgan",
    "Murphy",
    "Nguyen",
    "Oxendine",
    "Parker",
    "Patel",
    "Perez",
    "Phillips",
    "Ramirez",
    "Reed",
    "Roberts",
    "Robinson",
    "Rodriguez",
    "Sanchez",
    "Scott",
    "Smith",
    "Taylor",
    "Thomas",
    "Thompson",
    "Turner",
    "Walker",
    "Washington",
    "White",
    "Williams",
    "Wilson",
    "Wright",
    "Young",
)


@dataclass
class DirectoryCounts:
    psus: int = 0
    campuses: int = 0
    students: int = 0


def directory_seed() -> DirectoryCounts:
    """Create whatever demo PSUs, campuses and students are missing."""
    created = DirectoryCounts()
    for demo_psu in DEMO_PSUS:
        psu, new = PSU.objects.get_or_create(code=demo_psu.code, defaults={"name": demo_psu.name})
        created.psus += new
        for index, demo_campus in enumerate(demo_psu.campuses):
            campus, new = Campus.objects.get_or_create(
                code=demo_campus.code, defaults={"name": demo_campus.name, "psu": psu}
            )
            created.campuses += new
            created.students += _seed_students(psu, campus, demo_psu, demo_campus, index)
    return created


def _seed_students(psu, campus, demo_psu: DemoPSU, demo_campus: DemoCampus, index: int) -> int:
    rng = random.Random(f"{demo_campus.code}-students")
    existing = set(Student.objects.filter(campus=campus).values_list("student_number", flat=True))
    now = timezone.now()
    new_students = []
    for n in range(demo_campus.students):
        number = f"{demo_psu.number_prefix}{index}{n:08d}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        grade = demo_campus.grades[n % len(demo_campus.grades)]
        if number in existing:
            continue
        new_students.append(
            Student(
                student_number=number,
                first_name=first,
                last_name=last,
                username=f"{first[0]}{last}{number[:2]}{number[-4:]}".lower(),
                psu=psu,
                campus=campus,
                grade=grade,
                default_password_set_at=now,
                temporary_password_set_at=now,
                login_set_at=now,
            )
        )
    # The first login password is the default password, as when an account is provisioned;
    # it is held encrypted until the student first signs in.
    credentials = credentials_new(grades=[student.grade for student in new_students])
    for student, new in zip(new_students, credentials, strict=True):
        student.default_password_encrypted, student.password = new.default_token, new.login
    Student.objects.bulk_create(new_students, batch_size=500)
    return len(new_students)
