"""The items' history chained like the audit log (第六、七条: attributed, never edited, and provably so).

Every history row of a tenant gets the next number of a gapless series (``seq``), the hash of the row
before it (``prev_hash``) and its own ``hash`` (audit/chain.py: SHA-256 over the previous hash and the
row's fields), and ``sm3``: SM3 over the same bytes, a second digest (NULL where OpenSSL has no SM3).
``ItemRepository.record`` only adds the row, so the many callers stay as they are; the rows are held back
at flush and numbered at commit (``before_commit`` below), after everything else of the transaction is
flushed. A transaction with history rows costs one statement more than before, whatever
their number: the head row (``history_head``) is updated to take the numbers and returns the hash to
chain onto. Concurrent writers queue on that row's lock until the holder commits (PostgreSQL) or on the
write lock (SQLite), so the chain never forks. The head is the last lock a transaction takes, so
waiting for it never closes a circle with the item rows or counters it holds (no deadlock). A query of
the history inside the transaction that wrote rows (``ItemRepository.history`` when archiving, a
need-to-know check) numbers them first, so it sees them.
A trigger copies each new row's hash (SHA-256; SM3 has no head) into the head. The table refuses UPDATE
and DELETE (a trigger, since 0001); ``verify`` (``duban audit verify``) finds what was done around it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.util import find_tables

from duban.audit.chain import Verdict, link, links, stamp, walk
from duban.audit.repository import HistoryChainRepository
from duban.db.base import utcnow
from duban.items.models import HistoryEntry

__all__ = ["chain", "digest", "fields", "verify"]


def fields(row: Any) -> list[Any]:
    """What the digests of one history row are taken over (``row``: a HistoryEntry or a row with the same fields)."""
    return [row.seq, stamp(row.at), row.item_ref, row.assignment_id, row.action, row.from_state, row.to_state,
            row.actor, row.note]


def digest(prev_hash: str, row: Any) -> str:
    """The chain link (SHA-256) of one history row."""
    return link(prev_hash, fields(row))


_HISTORY = HistoryEntry.__table__
_PENDING = "duban.history.pending"  # session.info: rows recorded, not yet numbered, with their transaction


@event.listens_for(Session, "before_flush")
def _hold(session: Session, _context: Any, _instances: Any) -> None:
    """Keep new history rows back until commit (``_chain``), each with the (nested) transaction it was
    recorded in, so a savepoint rolled back takes its rows with it."""
    rows = [o for o in session.new if isinstance(o, HistoryEntry) and o.seq is None]
    if not rows:
        return
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending = session.info.setdefault(_PENDING, [])
    for row in sorted(rows, key=lambda o: inspect(o).insert_order):
        session.expunge(row)
        pending.append((row, transaction))


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: Any) -> None:
    """Forget the rows recorded in a transaction (or savepoint) that was rolled back."""
    def inside(transaction: Any) -> bool:
        while transaction is not None:
            if transaction is previous_transaction:
                return True
            transaction = transaction.parent
        return False

    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(row, t) for row, t in pending if not inside(t)]


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction: Any) -> None:
    """A transaction ended without commit (closed, rolled back): nothing of it is kept for later."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "before_commit")
def _commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the transaction itself, not a savepoint's release
        session.flush()  # everything else first: the chain's end is the last lock a transaction takes
        chain(session)


@event.listens_for(Session, "do_orm_execute")
def _visible(state: ORMExecuteState) -> None:
    """A query of the history inside the transaction that wrote some sees those rows too (they are
    numbered now, and the chain's end held from here to the commit)."""
    session = state.session
    if state.is_select and session.info.get(_PENDING) and _HISTORY in find_tables(state.statement, check_columns=True):
        chain(session)
        session.flush()


def chain(session: Session) -> None:
    """Number and hash (SHA-256, and SM3 where available) the rows held back, in the order they were
    recorded, and add them to be inserted."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    seq, prev = HistoryChainRepository.take(session, len(pending))
    for row, _ in pending:
        seq += 1
        if row.at is None:
            row.at = utcnow()
        row.seq, row.prev_hash = seq, prev
        row.hash, row.sm3 = links(prev, fields(row))
        prev = row.hash
        session.add(row)


async def verify(session: AsyncSession) -> Verdict:
    """Walk the tenant's history chain from the first row; name the first row changed, removed or
    inserted behind the platform's back."""
    repo = HistoryChainRepository(session)
    return await walk(repo.in_order(), fields, repo.last)
