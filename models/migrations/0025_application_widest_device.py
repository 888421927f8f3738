from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Issue 18: the most IMEIs a device of the list has, kept when the list is staged: a
# window of a long list is looked up a part per IMEI column, and the parts of the columns
# no device fills read the window's rows in vain (a 10-million-IMEI list of one- and
# two-IMEI devices: two of every four parts). Lists staged before keep None: all columns.


class Migration(migrations.Migration):
    dependencies = [("models", "0024_device_failure_without_key_index")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Application",
            name="widest_device",
            field=fields.IntField(null=True),
        ),
    ]
