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
