from django.core.management.base import BaseCommand, CommandError

from credentials.crypto import undecryptable_message
from people.key_rotation import default_passwords_rotate, rotation_targets


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored password under the newest key of DEFAULT_PASSWORD_KEYS: the "
        "students' default passwords and unused temporary login passwords, and those the "
        "requests' outcomes keep for handouts and undos. Batched, idempotent and safe to run "
        "again; afterwards the old keys can be removed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, batch_size, **options):
        problems = []
        for target in rotation_targets():
            report = default_passwords_rotate(
                batch_size=batch_size, progress=self.stdout.write, target=target
            )
            self.stdout.write(
                f"Re-encrypted {report.rotated:,} of {report.total:,} {report.label} under the "
                "newest key."
            )
            if report.undecryptable:
                shown = ", ".join(str(pk) for pk in report.undecryptable[:20])
                more = ", …" if len(report.undecryptable) > 20 else ""
                problems.append(
                    undecryptable_message(
                        len(report.undecryptable),
                        f"Those {report.label} were left unchanged (ids: {shown}{more}); run "
                        "this again once the key is back in DEFAULT_PASSWORD_KEYS.",
                    )
                )
        if problems:
            raise CommandError(" ".join(problems))
