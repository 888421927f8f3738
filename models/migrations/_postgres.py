"""Migration operations for one backend only (imported by the migrations; the loader skips
modules whose names start with an underscore)."""

from tortoise.migrations import operations as ops


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


def key_index_dropped(table: str) -> PostgresRunSQL:
    """`table`'s primary key (and so its index) dropped on PostgreSQL, restored going back:
    for a table whose rows nothing finds by id. The ids still come from their sequence."""
    constraint = f"{table}_pkey"
    return PostgresRunSQL(
        f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{constraint}"',
        reverse_sql=f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" PRIMARY KEY ("id")',
    )
