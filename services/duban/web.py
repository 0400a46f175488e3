"""Parameter markers shared by the routes (Litestar 2.25 wants every parameter's origin explicit)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from duban.context import TenantContext
from duban.platform import Platform

Ctx = NamedDependency[TenantContext]  # the caller's unit of work, injected as ``ctx``
Node = NamedDependency[Platform]  # the node, injected as ``platform``
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000)]  # past any real list; keeps SQL in range
StateFilter = Annotated[str | None, QueryParameter(name="state", description="only this state", max_length=32)]
LightQuery = Annotated[Literal["green", "yellow", "red"] | None, QueryParameter(description="only this traffic light")]

__all__ = ["Ctx", "FromPath", "JSONBody", "Limit", "LightQuery", "Node", "Offset", "StateFilter"]
