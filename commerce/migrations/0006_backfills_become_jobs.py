from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def backfills_to_jobs(apps, schema_editor):
    """An import under way was driven by Celery messages of a task that no longer exists
    (commerce.tasks.backfill_step): give each one the job that drives it now, due at once, so the
    sweeper sends it on its first pass."""
    Backfill = apps.get_model("commerce", "Backfill")
    Job = apps.get_model("shop_app", "Job")
    due = timezone.now() - timedelta(hours=1)
    for backfill in Backfill.objects.filter(status__in=["pending", "running"]):
        Job.objects.get_or_create(
            shop_id=backfill.shop_id,
            kind="commerce.backfill_step",
            key=str(backfill.pk),
            status="pending",
            defaults={"arguments": {"backfill_id": backfill.pk}, "available_at": due},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0005_backfill_phase_total"),
        ("shop_app", "0006_jobs"),
    ]

    operations = [migrations.RunPython(backfills_to_jobs, migrations.RunPython.noop)]
