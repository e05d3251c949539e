"""The disclosure audit moves to the directory (``people``), which records requests by number;
each student learns which request set their current default; the counters that the chunk
rows and the options already tell (reset, chunks planned, chunks done) go."""

from django.core.management.color import no_style
from django.db import migrations

COPY_DISCLOSURES = """
INSERT INTO people_defaultpassworddisclosure
    (id, actor_id, kind, psu_id, student_id, request_number, student_count, scope, at, ip)
SELECT id, actor_id, kind, psu_id, student_id, request_id, student_count, scope, at, ip
FROM regeneration_defaultpassworddisclosure
"""
# The request of each student's latest changed outcome (outcome_student_latest_idx serves it).
BACKFILL_DEFAULT_REQUEST = """
UPDATE people_student SET default_request_number = (
    SELECT o.request_id FROM regeneration_regenerationoutcome o
    WHERE o.student_id = people_student.id AND o.status = 'changed'
    ORDER BY o.id DESC LIMIT 1
)
"""


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(COPY_DISCLOSURES)
        cursor.execute(BACKFILL_DEFAULT_REQUEST)
        disclosure = apps.get_model("people", "DefaultPasswordDisclosure")
        for sql in connection.ops.sequence_reset_sql(no_style(), [disclosure]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("regeneration", "0004_outcome_fk_indexes_covered"),
        ("people", "0005_credential_source_and_disclosures"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="regenerationrequest", name="chunk_count"),
        migrations.RemoveField(model_name="regenerationrequest", name="chunks_done"),
        migrations.RemoveField(model_name="regenerationrequest", name="reset_count"),
        migrations.DeleteModel(name="DefaultPasswordDisclosure"),
    ]
