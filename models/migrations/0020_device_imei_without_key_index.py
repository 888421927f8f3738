from tortoise import migrations

from models.migrations._postgres import key_index_dropped

# Issue 18: on PostgreSQL device_imei's primary key is an index of its own, maintained for
# every IMEI of every uploaded list (a million per big upload) and never used: rows are
# found by IMEI or by application and IMEI. The ids still come from their sequence. In
# SQLite the id is the table's rowid, which costs no index.


class Migration(migrations.Migration):
    dependencies = [("models", "0019_derived_device_outcome")]

    initial = False

    operations = [key_index_dropped("device_imei")]
