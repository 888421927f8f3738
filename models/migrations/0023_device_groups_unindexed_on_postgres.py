from tortoise import migrations

from models.migrations._postgres import PostgresRunSQL

# Issue 18: on PostgreSQL the device table's (application_id, brand, model_code) index
# served no query. The list's groups (the group views, the declaration comparison, the CE
# requirements) read the device rows' other columns too, or are planned as a hash of a
# few dozen groups over the list's rows: measured on 769,230 devices, 253-268 ms with the
# index, 243-253 ms without. Its upkeep was 1.5 s of the 3.3 s PostgreSQL took to copy
# those rows in. SQLite keeps it: there the declaration comparison reads it alone.
INDEX = "idx_device_applica_6f765e"


class Migration(migrations.Migration):
    dependencies = [("models", "0022_device_imei_repeated")]

    initial = False

    operations = [
        PostgresRunSQL(
            f'DROP INDEX IF EXISTS "{INDEX}"',
            reverse_sql=f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "device" '
            '("application_id", "brand", "model_code")',
        )
    ]
