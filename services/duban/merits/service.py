"""奖惩建议 (第十一条): a tenant's supervision division proposes to commend or sanction one of its units
(itself or a unit below it in the tenant tree), optionally naming a person, for a reason resting on
items and assignments of this tenant. Filed with who and when (the platform's clock); the write is in
the tenant's audit log with the request (deps.py). Never changed afterwards."""

from __future__ import annotations

from datetime import UTC

from duban.context import TenantContext
from duban.db.base import new_id
from duban.errors import InvalidInput
from duban.merits.models import MeritProposal
from duban.merits.repository import MeritRepository
from duban.merits.schemas import MeritProposalCreate


def _one_each(ids: list[str], label: str, english: str) -> list[str]:
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"{label}重复 (an {english} is named twice)")
    return ids


async def file_proposal(ctx: TenantContext, data: MeritProposalCreate) -> MeritProposal:
    """File a 奖惩建议 about a unit of the tenant's own (itself or below it)."""
    unit = data.unit.strip()
    if ctx.registry.get(unit) is None:
        raise InvalidInput(f"单位 {unit} 不存在 (unknown unit)")
    if unit != ctx.tenant and not ctx.registry.is_below(unit, ctx.tenant):
        raise InvalidInput(f"{unit} 不是本单位或下级单位，不能对其提出奖惩建议 "
                           f"(a merit proposal may name only this tenant or a unit below it)")
    if not data.reason.strip():
        raise InvalidInput("请写明奖惩建议的理由 (the reason is empty)")
    if not data.basis_items and not data.basis_assignments:
        raise InvalidInput("奖惩建议须以督查事项或承办任务为依据 (name at least one item or assignment it rests on)")
    repo = MeritRepository(ctx.session, ctx.tenant)
    items = _one_each(data.basis_items, "依据事项", "item")
    assignments = _one_each(data.basis_assignments, "依据任务", "assignment")
    missing = await repo.missing_items(items)
    if missing:
        raise InvalidInput(f"本单位没有这些督查事项 (no such items here): {', '.join(missing)}")
    missing = await repo.missing_assignments(assignments)
    if missing:
        raise InvalidInput(f"本单位没有这些承办任务 (no such assignments here): {', '.join(missing)}")
    person = data.person.strip() if data.person else None
    proposal = MeritProposal(id=new_id(), kind=data.kind, unit=unit, person=person or None,
                             reason=data.reason.strip(), basis_items=items, basis_assignments=assignments,
                             filed_by=ctx.actor.ref, filed_at=ctx.time.now().astimezone(UTC))
    repo.add(proposal)
    return proposal
