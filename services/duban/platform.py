"""Wiring: one ``Platform`` holds the registry, storage, policy, event bus and archive of a node."""

from __future__ import annotations

import asyncio
import logging

from duban.db.database import Database
from duban.errors import InvalidInput
from duban.settings import Settings
from duban.tenancy.registry import Registry, load_registry

log = logging.getLogger("duban")


def build_registry(settings: Settings) -> Registry:
    """Load the tenant registry named by the settings."""
    return load_registry(settings.tenants_file)


def hosted_tenants(settings: Settings, registry: Registry) -> list[str]:
    """The tenants this node serves (all, unless the settings name some)."""
    if not settings.hosted_tenants:
        return [t.code for t in registry.tenants]
    unknown = [c for c in settings.hosted_tenants if c not in registry]
    if unknown:
        raise InvalidInput(f"DUBAN_HOSTED_TENANTS names unknown tenants: {', '.join(unknown)}")
    return list(settings.hosted_tenants)


def build_database(settings: Settings, registry: Registry | None = None) -> Database:
    """Storage for the hosted tenants."""
    registry = registry or build_registry(settings)
    return Database(settings, hosted_tenants(settings, registry))


__all__ = ["asyncio", "build_database", "build_registry", "hosted_tenants", "log"]
