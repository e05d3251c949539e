"""``python manage.py seed_demo``: the demo directory, accounts and roles (``catalog.demo``)
and the demo classes (``rosters.demo``). It lives in the top app because it puts the two
together, which neither may import of the other."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.demo import DEFAULT_DEMO_PASSWORD, demo_seed
from people.models import PSU, Campus, Student, User
from rosters.demo import rosters_seed


class Command(BaseCommand):
    help = (
        "Create the demo PSUs (920, 010, 32B), campuses, students and staff accounts "
        "(admin920, admin010, adminmulti, support, teacher, root, helpdesk920, school920304), "
        "and the classes of teacher. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEFAULT_DEMO_PASSWORD,
            help=f"Password of every demo account (default: {DEFAULT_DEMO_PASSWORD}).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never in production)."
        )

    def handle(self, *args, password, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo accounts with DEBUG off: they share a published "
                "password. Pass --force if this really is a demo or test site."
            )
        with transaction.atomic():
            created = demo_seed(password=password)
            classes = rosters_seed()
        self.stdout.write(
            f"Demo data ready: {PSU.objects.count()} PSUs, {Campus.objects.count()} campuses, "
            f"{Student.objects.count():,} students, {User.objects.count()} staff accounts "
            f"(created now: {created.psus} PSUs, {created.campuses} campuses, "
            f"{created.students:,} students, {created.users} accounts, {classes} classes)."
        )
