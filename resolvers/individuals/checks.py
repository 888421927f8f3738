"""The technical checks of an individual's IMEIs: the firms' check units, one IMEI at a time.

Each IMEI is its own line of the firms' `AnalysisContext`, so every IMEI gets its own codes
and the passing ones can enter the whitelist even when another IMEI of the device fails.
Brand/model checks are left out: people declare a phone by its marketing name, so the
whitelist entry takes brand and model from the TAC registry instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.checks import CheckCode
from resolvers.applications.checks import (
    AlreadyRegistered,
    AnalysisContext,
    Blacklisted,
    Check,
    DeviceLine,
    InvalidImei,
    PendingElsewhere,
    TacNotFound,
    evaluate,
)

INDIVIDUAL_CHECKS: tuple[Check, ...] = (
    InvalidImei(),
    TacNotFound(),
    AlreadyRegistered(),
    Blacklisted(),
    # In a firm's application still in progress: registering it here would collide there.
    PendingElsewhere(),
)


@dataclass(frozen=True, slots=True)
class ImeiResult:
    imei: str
    codes: tuple[CheckCode, ...]
    tac_brand: str | None  # what the TAC registry says (None when the TAC is unknown)
    tac_model: str | None

    @property
    def passed(self) -> bool:
        return not self.codes


async def check_imeis(imeis: Sequence[str]) -> list[ImeiResult]:
    """One result per IMEI, in order (the IMEIs are distinct; invalid ones are allowed)."""
    ctx = AnalysisContext(
        application_id=None,
        devices=[
            DeviceLine(row=i, brand="", model="", imeis=(imei,)) for i, imei in enumerate(imeis)
        ],
    )
    reasons = await evaluate(ctx, INDIVIDUAL_CHECKS)
    models = await ctx.device_models()
    results = []
    for i, imei in enumerate(imeis):
        found = models[i][0] if models[i] else None
        results.append(
            ImeiResult(
                imei=imei,
                codes=tuple(reasons.get(i, ())),
                tac_brand=found.brand if found else None,
                tac_model=found.model_code if found else None,
            )
        )
    return results
