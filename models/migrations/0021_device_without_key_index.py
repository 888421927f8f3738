from tortoise import migrations

from models.migrations._postgres import key_index_dropped

# Issue 18: on PostgreSQL the device table's primary key is an index of its own, maintained
# for every row of every uploaded list and never used: device rows are found by application
# and row number (their unique index) or by brand and model. Measured on PostgreSQL, 7.7
# million rows copied into the table: 29.3 s with the key's index, 23.0 s without. The ids
# still come from their sequence. In SQLite the id is the table's rowid, which costs no
# index.


class Migration(migrations.Migration):
    dependencies = [("models", "0020_device_imei_without_key_index")]

    initial = False

    operations = [key_index_dropped("device")]
