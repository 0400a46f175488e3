"""Import every model so ``Base.metadata`` is complete (for Alembic and for tests)."""

from duban.accounts.models import LoginSession, User, UserRole
from duban.db.base import Base
from duban.events.models import InboxEvent, OutboxEvent
from duban.items.models import Assignment, Feedback, HistoryEntry, Item

__all__ = [
    "Assignment", "Base", "Feedback", "HistoryEntry", "InboxEvent", "Item", "LoginSession",
    "OutboxEvent", "User", "UserRole",
]
