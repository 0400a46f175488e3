"""``q=``: find rows whose title or text contains the words, Chinese included, through an index.

Both databases index trigrams (every run of three characters), which needs no word segmentation and so
serves Chinese as well as Latin text:

- PostgreSQL: GIN indexes with ``gin_trgm_ops`` (extension ``pg_trgm``, installed in schema ``public``
  once per database) on the title and the text; ``ILIKE '%q%'`` uses them.
- SQLite: an FTS5 table with the ``trigram`` tokenizer per searched table, kept in step by triggers;
  a phrase query on it finds exactly the rows containing ``q``. FTS5 rowids are integers and our ids are
  UUID text, so a small key table gives each row a stable integer (not the implicit ``rowid`` of
  the base table, which VACUUM or a table rebuild may renumber).

A page of a search is either read from the index (every match, then the newest 20: cheap when few rows
match) or by walking the list in its order and keeping the rows that match (cheap when many do: 20
are met soon). PostgreSQL's planner chooses from its statistics. SQLite's cannot see into FTS5, so
``matching`` asks the index first for up to ``COMMON`` matches: that many or more, it walks with
``LIKE`` (the same match, row by row); fewer, it reads them from the index.

A query of one or two characters holds no trigram. It is answered correctly by a plain ``LIKE`` on the
base table (on PostgreSQL the same ``ILIKE``, which the planner then runs along the list's order
instead of through the trigram index): right, but a scan, fast only when the words are common.

Matching is a case-insensitive (for Latin letters) substring match on both databases.

On PostgreSQL a search is planned with its words each time (``matching`` sets it): the driver prepares
statements, and after a few runs PostgreSQL may keep a generic plan made without the words, which either
walks the whole list for a rare word or reads every match of a common one (seconds, at a million rows).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, column, func, literal, literal_column, or_, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

TRIGRAM = 3
COMMON = 2000  # SQLite: this many matches or more, a page walks the list (about where both ways cost alike
#               at a million rows: reading M matches against 20 × rows / M rows walked)

# What the migration makes for search outside the models (see migrations/versions/0013_list_indexes.py),
# left out of Alembic's comparison of the models with the database (migrations/env.py).
SEARCHED = {"items": ("title", "content"), "assignments": ("title", "content")}
PG_INDEXES = {f"ix_{t}_{c}_trgm" for t, cols in SEARCHED.items() for c in cols}
SQLITE_TABLES = {f"{t}_search" for t in SEARCHED} | {f"{t}_search_keys" for t in SEARCHED}


def outside_models(name: str | None, type_: str) -> bool:
    """Is this a search structure the migration keeps outside the models (FTS5 tables, their shadow
    tables, the key tables, the trigram indexes)?"""
    if not name:
        return False
    if type_ == "table":
        return any(name == t or name.startswith(f"{t}_") for t in SQLITE_TABLES)
    return type_ == "index" and name in PG_INDEXES


def like_pattern(q: str) -> str:
    """``%q%`` with LIKE's wildcards in ``q`` taken literally (escape character ``\\``)."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def matching(session: AsyncSession, id_column: InstrumentedAttribute, title: InstrumentedAttribute,
                   content: InstrumentedAttribute, q: str) -> ColumnElement[bool]:
    """A WHERE clause: the row's title or text contains ``q`` (and, on PostgreSQL, this transaction plans
    its statements with their parameters: see the module's note)."""
    way = await how(session, id_column.class_.__tablename__, q)
    return clause(way, id_column, title, content, literal(like_pattern(q)), literal(phrase(q)))


def phrase(q: str) -> str:
    """``q`` as one FTS5 phrase."""
    return '"' + q.replace('"', '""') + '"'


async def how(session: AsyncSession, name: str, q: str) -> str:
    """How table ``name`` is searched for ``q``: ``ilike`` (PostgreSQL, trigram indexes; this transaction
    then plans its statements with their parameters), ``like`` (SQLite: row by row, for short or common
    words) or ``fts`` (SQLite: from the FTS5 index, for rare words)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        return "ilike"
    if len(q) < TRIGRAM:
        return "like"
    found = select(literal_column("rowid")).select_from(table(f"{name}_search")).where(
        literal_column(f"{name}_search").op("MATCH")(phrase(q)))
    if await session.scalar(select(func.count()).select_from(found.limit(COMMON).subquery())) >= COMMON:
        return "like"
    return "fts"


def clause(way: str, id_column: InstrumentedAttribute, title: InstrumentedAttribute, content: InstrumentedAttribute,
           pattern: ColumnElement[str], match: ColumnElement[str]) -> ColumnElement[bool]:
    """The WHERE clause of a search done ``way`` (see ``how``), with the ``%q%`` pattern and the FTS5 phrase
    as expressions (literal values, or named parameters of a prepared statement)."""
    if way == "ilike":
        return or_(title.ilike(pattern, escape="\\"), content.ilike(pattern, escape="\\"))
    if way == "like":
        return or_(title.like(pattern, escape="\\"), content.like(pattern, escape="\\"))
    name = id_column.class_.__tablename__
    fts, keys = table(f"{name}_search", column("rowid")), table(f"{name}_search_keys", column("n"), column("id"))
    found = select(fts.c.rowid).where(literal_column(f"{name}_search").op("MATCH")(match))
    return id_column.in_(select(keys.c.id).where(keys.c.n.in_(found)))
