"""On PostgreSQL, leave half of each page of the student table free (``fillfactor=50``).

A request rewrites every student of a chunk (2,000 consecutive ids, so whole pages) in one
transaction, and PostgreSQL can keep a new row version on its page without touching any of
the table's 15 indexes (a heap-only tuple, HOT) only when the page has room for it and no
indexed column changed. A default-only request changes no indexed column, but with full
pages (the default) 99% of its updates went elsewhere and wrote an entry in every index:
the UPDATE was most of a request's time. With half of each page free every row's new version
fits beside the old one: measured on a copy of 40,000 students (COPY + ``UPDATE ... FROM`` in
chunks of 2,000, as the engine writes), 12,600 students/s at full pages against 78,000 at
half, every update HOT (README, "Room for updates"). The table is twice the size on disk
(about 390 bytes a student, so 1.2 GB for 1.5 million students); the indexes are unchanged.

The setting applies to pages written from now on: a table already loaded keeps its full
pages until it is rewritten (``VACUUM FULL people_student`` or pg_repack, in a quiet hour),
or as its rows move on update. SQLite has no such setting; nothing changes there.
"""

from django.db import migrations

FILLFACTOR = 50


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE people_student SET (fillfactor = {FILLFACTOR})")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE people_student RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0009_signed_in_name_index"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
