from django.db import migrations


class Migration(migrations.Migration):
    """Rename the tables taken over in 0001 to this app's own names; every row is kept."""

    dependencies = [
        ('privacy', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(name='privacyrequest', table=None),
        migrations.AlterModelTable(name='suppressedshopper', table=None),
    ]
