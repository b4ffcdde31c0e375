"""Emails are stored normalized (lower-case, no surrounding spaces; privacy.identifiers), so that
finding a shopper's rows and erasing them compare the same way. Rows stored before that are
brought to the same form here."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Q
from django.db.models.functions import Lower, Trim


def emails_lower_case(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name in ("Customer", "Order"):
        model = apps.get_model("commerce", name)
        model.objects.exclude(Q(email="")).update(email=Lower(Trim("email")))


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0003_catalog"),
    ]

    operations = [
        # Nothing to undo: the lower-case address is the same address.
        migrations.RunPython(emails_lower_case, migrations.RunPython.noop, elidable=True),
    ]
