"""SQL for the split tree of one tenant: its parts (items split from an assignment it received) and the
nodes reported from below."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.items.models import Item
from duban.tree.models import TreeNode


class TreeRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def parts_of(self, assignment_ids: list[str]) -> list[Item]:
        """The parts this tenant split from these received assignments."""
        if not assignment_ids:
            return []
        query = select(Item).where(Item.parent_assignment_id.in_(assignment_ids)).order_by(Item.created_at, Item.id)
        return list(await self.session.scalars(query))

    async def node(self, assignment_id: str) -> TreeNode | None:
        return await self.session.get(TreeNode, assignment_id)

    def add(self, node: TreeNode) -> None:
        self.session.add(node)

    async def nodes(self, item_ref: str) -> list[TreeNode]:
        """Every node reported from below for this item (any depth)."""
        query = select(TreeNode).where(TreeNode.item_ref == item_ref).order_by(TreeNode.deadline, TreeNode.unit)
        return list(await self.session.scalars(query))
