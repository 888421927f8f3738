from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Issue 18: a device's outcome is derived (analysed list, and no device_failure row), not
# stored: writing it rewrote every row of the list and its (application_id, passed) index
# on each analysis. Lists analysed before keep their outcomes: every failed device already
# has its failure rows (the analysis and the payment race wrote both).
INDEX = "idx_device_applica_cbc1f0"


class StateOnlyRemoveField(ops.RemoveField):
    """The field gone from the migration state only: tortoise's SQLite remove_field rebuilds
    the table (a million-row copy that loses its unique constraint), so the column is
    dropped by the RunSQL below instead (SQLite 3.35+ once no index uses it)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        return None


class StateOnlyRemoveIndex(ops.RemoveIndex):
    """The index gone from the migration state only; dropped by name below."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0016_device_list_indexes')]

    initial = False

    operations = [
        StateOnlyRemoveIndex(model_name='Device', fields=['application_id', 'passed']),
        StateOnlyRemoveField(model_name='Device', name='passed'),
        ops.RunSQL(
            [f'DROP INDEX IF EXISTS "{INDEX}"', 'ALTER TABLE "device" DROP COLUMN "passed"'],
            # Back: the column filled again from the failure rows, for analysed lists.
            reverse_sql=[
                'ALTER TABLE "device" ADD COLUMN "passed" BOOLEAN',
                'UPDATE "device" SET "passed" = NOT EXISTS (SELECT 1 FROM "device_failure" f '
                'WHERE f.application_id = "device".application_id '
                'AND f.row_number = "device".row_number) '
                'WHERE "device".application_id IN (SELECT id FROM "application" '
                'WHERE passed_device_count IS NOT NULL)',
                f'CREATE INDEX "{INDEX}" ON "device" ("application_id", "passed")',
            ],
        ),
    ]
