"""Imports every module that registers job handlers, so a worker knows them all."""

from __future__ import annotations

import importlib

HANDLER_MODULES: tuple[str, ...] = (
    "resolvers.applications.analysis",
)


def load_handlers() -> None:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
