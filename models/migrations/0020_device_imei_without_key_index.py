from tortoise import migrations
from tortoise.migrations import operations as ops

# Issue 18: on PostgreSQL device_imei's primary key is an index of its own, maintained for
# every IMEI of every uploaded list (a million per big upload) and never used: rows are
# found by IMEI or by application and IMEI. The ids still come from their sequence. In
# SQLite the id is the table's rowid, which costs no index.
CONSTRAINT = "device_imei_pkey"


class PostgresRunSQL(ops.RunSQL):
    """Run on PostgreSQL only."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and _postgres(state_editor):
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and _postgres(state_editor):
            await super().database_backward(app_label, old_state, new_state, state_editor)


def _postgres(state_editor) -> bool:
    return state_editor.client.capabilities.dialect == "postgres"


class Migration(migrations.Migration):
    dependencies = [("models", "0019_derived_device_outcome")]

    initial = False

    operations = [
        PostgresRunSQL(
            f'ALTER TABLE "device_imei" DROP CONSTRAINT IF EXISTS "{CONSTRAINT}"',
            reverse_sql=(
                f'ALTER TABLE "device_imei" ADD CONSTRAINT "{CONSTRAINT}" PRIMARY KEY ("id")'
            ),
        ),
    ]
