from tortoise import migrations

from models.migrations._postgres import key_index_dropped

# Issue 18: on PostgreSQL device_failure's primary key is an index of its own, maintained
# for every reason of every analysis and never used: reasons are found by application and
# row number or by application and code (their indexes). Measured on PostgreSQL, the
# 384,620 reasons of the 1M bench list inserted: 1.39-1.63 s with the key's index,
# 1.27-1.35 s without. The ids still come from their sequence (a device's reasons are
# read in id order). In SQLite the id is the table's rowid, which costs no index.


class Migration(migrations.Migration):
    dependencies = [("models", "0023_device_groups_unindexed_on_postgres")]

    initial = False

    operations = [key_index_dropped("device_failure")]
