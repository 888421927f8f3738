from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# device.application_id's own index is redundant: the unique (application_id, row_number)
# serves every lookup by application, and a million-device upload maintained both.
INDEX = "idx_device_applica_575207"


class StateOnlyAlterField(ops.AlterField):
    """The field's new definition in the migration state only: tortoise's SQLite
    alter_field rebuilds the table and loses its unique constraint and other indexes,
    so the index is dropped by the RunSQL below instead."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0018_firm_signers_and_paper_documents')]

    initial = False

    operations = [
        StateOnlyAlterField(
            model_name='Device',
            name='application_id',
            field=fields.IntField(),
        ),
        ops.RunSQL(
            f'DROP INDEX IF EXISTS "{INDEX}"',
            reverse_sql=f'CREATE INDEX "{INDEX}" ON "device" ("application_id")',
        ),
    ]
