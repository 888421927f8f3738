from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Issue 18: whether an IMEI is repeated in its list is settled once, when the list is
# staged (`resolvers.applications.devices._index_imeis`), and the repeated ones are a small
# index of their own: the analysis reads a list's, or a window's, from it. Counted by the
# analysis instead, a 10-million-IMEI list took 16 windows of 2.2-3.7 s of PostgreSQL
# (40 s in all), and a million-IMEI list 1.1-1.4 s of the analysis' interpreter. The lists
# staged before are flagged here, in one ordered pass over the (application, IMEI) index.
INDEX = "device_imei_repeated"


class StateOnlyAddField(ops.AddField):
    """The field in the migration state only; the column is added by the RunSQL below,
    with its default, on both backends alike."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        return None


class Migration(migrations.Migration):
    dependencies = [("models", "0021_device_without_key_index")]

    initial = False

    operations = [
        StateOnlyAddField(
            model_name="DeviceImei",
            name="repeated",
            field=fields.BooleanField(default=False),
        ),
        ops.RunSQL(
            [
                'ALTER TABLE "device_imei" ADD COLUMN "repeated" BOOLEAN NOT NULL DEFAULT FALSE',
                'UPDATE "device_imei" SET "repeated" = TRUE WHERE ("application_id", "imei") IN '
                '(SELECT "application_id", "imei" FROM "device_imei" '
                'GROUP BY "application_id", "imei" HAVING COUNT(*) > 1)',
                f'CREATE INDEX "{INDEX}" ON "device_imei" ("application_id", "row_number") '
                'WHERE "repeated"',
            ],
            reverse_sql=[
                f'DROP INDEX IF EXISTS "{INDEX}"',
                'ALTER TABLE "device_imei" DROP COLUMN "repeated"',
            ],
        ),
    ]
