from django.core.management.base import BaseCommand, CommandError

from regeneration.keys import default_passwords_rotate


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
            raise CommandError(
                f"{len(report.undecryptable):,} students could not be decrypted with any key "
                f"and were left unchanged (student ids: {shown}"
                f"{', …' if len(report.undecryptable) > 20 else ''}). Add the key that "
                "encrypted them to DEFAULT_PASSWORD_KEYS and run this again."
            )
