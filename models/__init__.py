"""ORM models and pure domain rules.

`MODEL_MODULES` lists every module that defines Tortoise models; the ORM config and the
migrations read it, so a new model module is registered here once.
"""

MODEL_MODULES: list[str] = [
    "models.accounts",
    "models.audit",
    "models.files",
    "models.jobs",
    "models.tac",
    "models.registry",
    "models.applications",
    "models.documents",
    "models.progress",
    "models.payments",
    "models.fees",
    "models.notifications",
    "models.network",
    "models.individuals",
    "models.after",
    "models.events",
    "models.grace",
    "models.quotas",
    "models.signers",
]
