"""SQL for the generated documents of one tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from duban.documents.models import GeneratedDocument, Rendition
from duban.errors import NotFound
from duban.numbering.repository import CounterRepository

NOT_FOUND = "文书不存在 (no such document)"


class DocumentRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def next_seq(self, kind: str, year: int) -> int:
        """The next number of the tenant's ``kind`` series for ``year``, taken in the caller's transaction
        (numbering/: gapless, never twice, also under concurrent 交办 on PostgreSQL)."""
        return await CounterRepository(self.session, self.tenant).next(f"document:{kind}:{year}")

    def add(self, doc: GeneratedDocument) -> None:
        self.session.add(doc)

    async def of_item(self, item_id: str) -> list[GeneratedDocument]:
        """An item's documents, oldest first."""
        return list(await self.session.scalars(
            select(GeneratedDocument).where(GeneratedDocument.item_id == item_id)
            .order_by(GeneratedDocument.created_at, GeneratedDocument.kind, GeneratedDocument.seq)))

    async def get(self, item_id: str, document_id: str) -> GeneratedDocument:
        """One document of the item, or NotFound (also another item's: it is not under this path)."""
        found = await self.session.get(GeneratedDocument, document_id)
        if found is None or found.item_id != item_id:
            raise NotFound(NOT_FOUND)
        return found

    async def notice_of(self, assignment_id: str) -> GeneratedDocument | None:
        """The 通知单 issued with an assignment (the first, should there be more)."""
        return (await self.session.scalars(
            select(GeneratedDocument).where(GeneratedDocument.assignment_id == assignment_id,
                                            GeneratedDocument.kind == "notice")
            .order_by(GeneratedDocument.seq).limit(1))).first()

    async def renditions(self, document_ids: list[str]) -> dict[tuple[str, str], Rendition]:
        """The stored renditions of these documents, by (document id, format)."""
        if not document_ids:
            return {}
        rows = await self.session.scalars(select(Rendition).where(Rendition.document_id.in_(document_ids)))
        return {(r.document_id, r.format): r for r in rows}

    async def rendition(self, document_id: str, fmt: str) -> Rendition | None:
        return await self.session.get(Rendition, (document_id, fmt))

    async def keep_rendition(self, r: Rendition) -> Rendition:
        """Record a stored rendition unless one is recorded already (two first downloads at once); the one
        that counts."""
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        values = {c.name: getattr(r, c.key) for c in Rendition.__table__.columns}
        await self.session.execute(dialect.insert(Rendition).values(**values).on_conflict_do_nothing())
        found = await self.session.scalar(select(Rendition).where(Rendition.document_id == r.document_id,
                                                                  Rendition.format == r.format)
                                          .execution_options(populate_existing=True))
        assert found is not None
        return found
