from django.core.management.base import BaseCommand, CommandError

from credentials.crypto import undecryptable_message
from people.key_rotation import default_passwords_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored default password (and every unused temporary login "
        "password) under the newest key of DEFAULT_PASSWORD_KEYS. Batched, idempotent and "
        "safe to run again; afterwards the old keys can be removed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, batch_size, **options):
        report = default_passwords_rotate(batch_size=batch_size, progress=self.stdout.write)
        self.stdout.write(
            f"Re-encrypted {report.rotated:,} of {report.total:,} students under the newest key."
        )
        if report.undecryptable:
            shown = ", ".join(str(pk) for pk in report.undecryptable[:20])
            more = ", …" if len(report.undecryptable) > 20 else ""
            raise CommandError(
                undecryptable_message(
                    len(report.undecryptable),
                    f"Those students were left unchanged (student ids: {shown}{more}); run "
                    "this again once the key is back in DEFAULT_PASSWORD_KEYS.",
                )
            )
