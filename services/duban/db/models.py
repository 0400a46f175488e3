"""Import every model so ``Base.metadata`` is complete (for Alembic and for tests)."""

import duban.audit.history  # noqa: F401 — the listener that chains history rows at flush
from duban.accounts.models import AccountSecurity, LoginSession, RecoveryCode, User, UserRole
from duban.attachments.models import Attachment
from duban.audit.models import AuditEntry, HistoryHead
from duban.bulletins.models import Bulletin
from duban.calendar.models import CalendarYear
from duban.confidentiality.models import InstructionRecord
from duban.counits.models import CoView
from duban.db.base import Base
from duban.deadlines.models import Clock
from duban.documents.models import GeneratedDocument, Rendition
from duban.events.models import InboxEvent, InboxStream, OutboxEvent
from duban.extensions.models import Extension
from duban.figures.models import FigureReport
from duban.items.models import Assignment, Feedback, HistoryEntry, Item
from duban.ledgers.models import LedgerImport
from duban.meetings.models import Meeting, MeetingItem
from duban.merits.models import MeritProposal
from duban.notifications.models import Delivery, Notification
from duban.numbering.models import Counter
from duban.proposals.models import Consultation, Proposal, ProposalReply
from duban.reminders.models import Reminder
from duban.supervision.models import Supervision
from duban.tree.models import TreeNode

__all__ = [
    "Assignment", "Attachment", "Base", "Clock", "Counter", "Feedback", "HistoryEntry", "InboxEvent", "InboxStream",
    "Item",
    "LoginSession", "OutboxEvent", "User", "UserRole",
    "AccountSecurity", "RecoveryCode",
    "Delivery", "Notification",
    "CalendarYear",
    "Extension", "Reminder", "Supervision", "AuditEntry", "HistoryHead",
    "TreeNode", "FigureReport", "CoView",
    "Meeting", "MeetingItem", "Proposal", "ProposalReply", "Consultation",
    "InstructionRecord",
    "MeritProposal",
    "GeneratedDocument", "Rendition",
    "Bulletin",
    "LedgerImport",
]
