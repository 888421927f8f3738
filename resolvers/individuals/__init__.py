"""Individual registrations (Tebliğ art. 5): AKM registrations and e-Devlet declarations,
the periodic verification of declarations by the authorities, and whitelist removal/restore.

Modules: `submissions` (the idempotent AKM / e-Devlet use cases and policy limits), `checks`
(the technical checks, reusing the firms' check units), `declarations` (a registration as the
authorities see it), `verification` (periodic dispatch, batch jobs, applying answers),
`deadline` (the verification deadline: overdue declarations blocked),
`whitelist` (removal with a reason and restore, by staff and by verification), `access`
(who reads which registration).
"""

from __future__ import annotations

from resolvers.individuals import deadline, verification


async def schedule_periodic() -> None:
    await verification.schedule_periodic()
    await deadline.schedule_periodic()


__all__ = ["schedule_periodic"]
