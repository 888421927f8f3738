from tortoise import migrations
from tortoise.migrations import operations as ops

# Operators' checks look for whitelist removals of the checked IMEIs: without this index
# every ADD row of each IMEI is fetched and filtered out (half of a 1,000-IMEI lookup on
# PostgreSQL). Removals are rare, so the partial index stays small. Both backends accept it.
CREATE = (
    "CREATE INDEX IF NOT EXISTS whitelist_change_removal_imei "
    "ON whitelist_change (imei) WHERE op = 'REMOVE'"
)


class Migration(migrations.Migration):
    dependencies = [('models', '0006_after_registration')]

    initial = False

    operations = [
        ops.RunSQL(CREATE, reverse_sql="DROP INDEX IF EXISTS whitelist_change_removal_imei"),
    ]
