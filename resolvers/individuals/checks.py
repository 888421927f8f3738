"""The technical checks of an individual's device: the firms' check units, the device as one.

A person registers one device, so it passes or fails as a whole: every IMEI must be a valid
IMEI of a registered TAC, none may be registered, blacklisted or pending elsewhere, their
number must match the SIM count of the TAC's model, and a declared brand/model must not
contradict the TAC. One failing IMEI refuses the whole device — otherwise a dual-SIM phone
whose first IMEI is reported stolen would get its second one listed. Each IMEI keeps its
own reasons; the device's reasons go on every IMEI, and an IMEI that is fine in itself gets
`DEVICE_REFUSED`, so every IMEI says why it was not listed.

People declare a phone by its marketing name ("iPhone 12"), not by the model code on its CE
certificate, so the model contradicts the TAC only when the registry knows the marketing
name and the declared model is neither; the brand must always be the registry's. The
whitelist entry takes brand and model from the TAC registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from models.checks import CheckCode
from models.names import brand_model_key
from models.tac import TacModel
from resolvers.applications.checks import (
    AlreadyRegistered,
    AnalysisContext,
    Blacklisted,
    Check,
    DeviceLine,
    ImeiModelConflict,
    InvalidImei,
    PendingElsewhere,
    SimCountMismatch,
    TacNotFound,
    evaluate,
)

# Each IMEI alone: its own reasons.
IMEI_CHECKS: tuple[Check, ...] = (
    InvalidImei(),
    TacNotFound(),
    AlreadyRegistered(),
    Blacklisted(),
    # In a firm's application still in progress: registering it here would collide there.
    PendingElsewhere(),
)


class DeclaredModelContradicts:
    """The declared brand is not the TAC's, or the declared model is neither the TAC's model
    code nor (when the registry has one) its marketing name."""

    code = CheckCode.MODEL_MISMATCH

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        models = await ctx.device_models()
        failing = set()
        for index, found in enumerate(models):
            known = [m for m in found if m is not None]
            device = ctx.devices[index]
            if any(_contradicts(device.brand, device.model, m) for m in known):
                failing.add(index)
        return failing


def _contradicts(brand: str, model: str, registry: TacModel) -> bool:
    if brand_model_key(brand) != brand_model_key(registry.brand):
        return True
    if not registry.marketing_name:
        return False  # a marketing name the registry does not know cannot be judged
    names = {brand_model_key(registry.model_code), brand_model_key(registry.marketing_name)}
    return brand_model_key(model) not in names


# The IMEIs together, as one device.
DEVICE_CHECKS: tuple[Check, ...] = (
    ImeiModelConflict(),
    SimCountMismatch(),
    DeclaredModelContradicts(),
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


def whole_device(results: Sequence[ImeiResult]) -> list[ImeiResult]:
    """All pass or none: when one IMEI fails, the others get `DEVICE_REFUSED`."""
    if all(r.passed for r in results):
        return list(results)
    return [r if r.codes else replace(r, codes=(CheckCode.DEVICE_REFUSED,)) for r in results]


async def check_device(imeis: Sequence[str], brand: str, model: str) -> list[ImeiResult]:
    """One result per IMEI, in order (the IMEIs are distinct; invalid ones are allowed)."""
    each = AnalysisContext(
        application_id=None,
        devices=[
            DeviceLine(row=i, brand="", model="", imeis=(imei,)) for i, imei in enumerate(imeis)
        ],
    )
    reasons = await evaluate(each, IMEI_CHECKS)
    models = await each.device_models()
    device_codes: list[CheckCode] = []
    if all(found and found[0] is not None for found in models):
        # Only a device whose IMEIs are all valid IMEIs of known TACs can be judged as one.
        device = AnalysisContext(
            application_id=None,
            devices=[DeviceLine(row=0, brand=brand, model=model, imeis=tuple(imeis))],
        )
        device_codes = list((await evaluate(device, DEVICE_CHECKS)).get(0, ()))
    results = []
    for i, imei in enumerate(imeis):
        found = models[i][0] if models[i] else None
        results.append(
            ImeiResult(
                imei=imei,
                codes=tuple(dict.fromkeys([*reasons.get(i, ()), *device_codes])),
                tac_brand=found.brand if found else None,
                tac_model=found.model_code if found else None,
            )
        )
    return whole_device(results)
