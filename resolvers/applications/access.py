"""Finding an application the actor may see (the same answer for missing and not yours)."""

from __future__ import annotations

from models.applications import Application
from resolvers.actor import Actor
from resolvers.errors import DomainError, not_found
from resolvers.scoping import visible_to


def missing() -> DomainError:
    return not_found("Başvuru", "Application", field="applicationId")


async def get_application(
    actor: Actor, application_id: int, for_update: bool = False
) -> Application:
    """Staff see every application, a firm's users their firm's; call `for_update` inside a
    transaction to lock the row against concurrent transitions."""
    query = visible_to(Application.filter(id=application_id), actor)
    if for_update:
        query = query.select_for_update()
    application = await query.first()
    if application is None:
        raise missing()
    return application
