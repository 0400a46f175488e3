"""Import every model so ``Base.metadata`` is complete (for Alembic and for tests)."""

from duban.accounts.models import LoginSession, User, UserRole
from duban.db.base import Base
from duban.events.models import InboxEvent, InboxStream, OutboxEvent
from duban.items.models import Assignment, Feedback, HistoryEntry, Item
from duban.numbering.models import Counter

__all__ = [
    "Assignment", "Base", "Counter", "Feedback", "HistoryEntry", "InboxEvent", "InboxStream", "Item",
    "LoginSession", "OutboxEvent", "User", "UserRole",
]
