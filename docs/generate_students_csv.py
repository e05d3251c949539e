"""Write a large, valid import file for the demo PSU 920, to measure ``import_students``.

    python docs/generate_students_csv.py 100000 > /tmp/students-100k.csv
    python docs/generate_students_csv.py 100000 --grade-shift 1 > /tmp/students-100k-next-year.csv

Student numbers start at 8000000000 and usernames end in the number, so they never clash
with the demo data. ``--grade-shift`` moves every student up that many grades (capped at
12), to measure an import that updates every row.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys

CAMPUSES = ("920304", "920312", "920330", "920348", "920364", "920372")
GRADES = ["-5", "-4", "-3", "-2", "-1", *[str(g) for g in range(13)]]
FIRST = ("Ava", "Liam", "Mia", "Noah", "Zoe", "Eli", "Ivy", "Leo", "Ada", "Max", "Sam", "Kai")
LAST = ("Smith", "Jones", "Garcia", "Brown", "Chen", "Patel", "Nguyen", "Lopez", "Kim", "Diaz")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("--grade-shift", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(42)
    out = csv.writer(sys.stdout)
    out.writerow(
        [
            "student_number",
            "last_name",
            "first_name",
            "username",
            "psu_code",
            "campus_code",
            "grade",
        ]
    )
    for n in range(args.count):
        number = 8_000_000_000 + n
        first, last = rng.choice(FIRST), rng.choice(LAST)
        position = min(rng.randrange(len(GRADES)) + args.grade_shift, len(GRADES) - 1)
        out.writerow(
            [
                number,
                last,
                first,
                f"{first[0]}{last}{number}".lower(),
                "920",
                rng.choice(CAMPUSES),
                GRADES[position],
            ]
        )


if __name__ == "__main__":
    main()
