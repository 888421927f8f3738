"""Moving an application through its workflow: the table decides, every move is audited."""

from __future__ import annotations

from typing import Any

from models import clock
from models.applications import Application
from models.events import EventTopic
from models.labels import label
from models.workflow import Action, Transition, TransitionRefused, transition_for
from resolvers import audit, events
from resolvers.actor import Actor
from resolvers.errors import Bilingual, DomainError, ErrorCode
from resolvers.workflow import notifications


def check(actor: Actor, application: Application, action: Action) -> Transition:
    """The transition `action` would take, or the error `apply` would raise (so a use case
    can refuse before doing any work)."""
    try:
        return transition_for(action, application.status, actor.role)
    except TransitionRefused as refused:
        if not refused.role_allowed:
            raise DomainError(ErrorCode.FORBIDDEN) from refused
        raise DomainError(
            ErrorCode.INVALID_STATE,
            reason=Bilingual(
                f"başvuru '{label(application.status, 'tr')}' durumunda",
                f"the application is '{label(application.status, 'en')}'",
            ),
        ) from refused


async def apply(
    actor: Actor,
    application: Application,
    action: Action,
    reason: str | Bilingual | None = None,
    details: dict[str, Any] | None = None,
) -> Application:
    """Take `action` on a row locked by the caller's transaction; the firm is e-mailed about
    the new status through the outbox, in the same transaction. A reason the system words
    comes in both languages (`Bilingual`); one typed by a person is kept as written."""
    transition = check(actor, application, action)
    previous = application.status
    application.status = transition.target
    application.status_reason = reason.tr if isinstance(reason, Bilingual) else reason
    application.status_reason_en = reason.en if isinstance(reason, Bilingual) else None
    application.updated_at = clock.now()
    await application.save(
        update_fields=["status", "status_reason", "status_reason_en", "updated_at"]
    )
    reason_tr = application.status_reason
    await audit.record(
        actor,
        f"application.{action.value.lower()}",
        "Application",
        application.id,
        {
            "from": previous.value,
            "to": transition.target.value,
            "reason": reason_tr,
            **(details or {}),
        },
        firm_id=application.firm_id,
    )
    await notifications.status_changed(application, previous, reason)
    await events.record(
        EventTopic.APPLICATION,
        application.id,
        transition.target.value,
        reason_tr or "",
        firm_id=application.firm_id,
    )
    return application
