from django.db import migrations


class Migration(migrations.Migration):
    """Rename the tables taken over in 0001 to this app's own names; every row is kept."""

    dependencies = [
        ('commerce', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(name='customer', table=None),
        migrations.AlterModelTable(name='inventorylevel', table=None),
        migrations.AlterModelTable(name='order', table=None),
        migrations.AlterModelTable(name='orderline', table=None),
        migrations.AlterModelTable(name='refund', table=None),
        migrations.AlterModelTable(name='refundline', table=None),
        migrations.AlterModelTable(name='synccursor', table=None),
        migrations.AlterModelTable(name='backfill', table=None),
        migrations.AlterModelTable(name='consentlogentry', table=None),
    ]
