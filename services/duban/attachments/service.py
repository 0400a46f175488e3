"""Attachments (附件) of feedback: uploaded as a stream into the tenant's own bucket, given to one feedback,
sent up as references, copied by the receiver into its own bucket with the SHA-256 checked before the
event commits, and sealed into the dossier with their digests."""

from __future__ import annotations

import asyncio
import contextlib
import re
import unicodedata
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from duban.archive import ArchiveStore
from duban.archive.dossier import StoredFile
from duban.attachments import formats
from duban.attachments.models import Attachment
from duban.attachments.repository import AttachmentRepository
from duban.attachments.schemas import AttachmentRead
from duban.attachments.store import Mismatch, Missing, OverLimit, StreamReader, pull_from
from duban.attachments.upload import Upload, too_large
from duban.audit import service as audit
from duban.context import EventContext
from duban.db.base import new_id
from duban.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused
from duban.events.envelope import AttachmentRef
from duban.policy.policy import Actor

if TYPE_CHECKING:
    from duban.platform import Platform

MAX_PER_FEEDBACK = 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def ref_of(a: Attachment) -> AttachmentRef:
    """How an attachment travels in an event: where its bytes are and what they must hash to."""
    return AttachmentRef(a.id, a.bucket, a.key, a.sha256, a.size, a.name, a.content_type)


# -- upload --------------------------------------------------------------------------------------------
async def authorize_upload(platform: Platform, actor: Actor, target: str) -> None:
    """May the actor upload? A refusal is audited like any denied request."""
    try:
        platform.policy.authorize(actor, "attachment", "upload")
    except Forbidden as exc:
        async with platform.db.transaction(actor.tenant) as session:
            await audit.record(session, actor.tenant, actor.ref, "denied", target, platform.time.now(), exc.message)
        raise


async def upload(platform: Platform, actor: Actor, file: Upload, target: str) -> Attachment:
    """Check the name and the first bytes, stream the file into the tenant's bucket (hashing it on the
    way, stopping at the size limit), then record it. No transaction is open while the bytes flow."""
    settings = platform.settings
    name, ext = formats.check_name(file.filename, settings.attachment_types)
    head = b""
    while len(head) < formats.HEAD:
        chunk = await anext(file.chunks, b"")
        if not chunk:
            break
        head += chunk
    formats.check_head(ext, head)

    store = platform.attachments
    bucket = await store.ensure_bucket(actor.tenant)
    a = Attachment(id=new_id(), bucket=bucket, name=name, content_type=formats.content_type(ext),
                   uploaded_by=actor.ref, uploaded_at=platform.time.now())
    a.key = f"uploads/{a.id}"
    reader = StreamReader(pull=pull_from(file.chunks, asyncio.get_running_loop()), head=head,
                          limit=settings.attachment_max_mb * 1024 * 1024)
    try:
        await store.put(bucket, a.key, reader, a.content_type)
    except OverLimit:
        raise too_large(settings.attachment_max_mb) from None
    a.sha256, a.size = reader.digests.sha256, reader.digests.size
    try:
        async with platform.db.transaction(actor.tenant) as session:
            AttachmentRepository(session, actor.tenant).add(a)
            await audit.record(session, actor.tenant, actor.ref, "write", target, platform.time.now())
    except BaseException:
        with contextlib.suppress(Exception):
            await store.remove(bucket, a.key)  # not recorded, so not kept
        raise
    return a


async def download(session: AsyncSession, tenant: str, platform: Platform,
                   attachment_id: str) -> tuple[Attachment, AsyncIterator[bytes]]:
    """An attachment and its bytes, as a stream."""
    a = await AttachmentRepository(session, tenant).get(attachment_id)
    if a is None:
        raise NotFound("附件不存在 (no such attachment)")
    try:
        return a, await platform.attachments.open(a.bucket, a.key)
    except Missing:
        raise Conflict(f"附件「{a.name}」的文件已不在存储中，请联系管理员 (the stored file is missing)") from None


# -- sending: feedback carries references -----------------------------------------------------------------
async def claim(session: AsyncSession, tenant: str, ids: list[str], feedback_id: str) -> list[AttachmentRef]:
    """Give uploads of this tenant that no feedback uses yet to ``feedback_id``; their references."""
    if not ids:
        return []
    if len(set(ids)) != len(ids):
        raise InvalidInput("同一附件列了两次 (an attachment is listed twice)")
    if len(ids) > MAX_PER_FEEDBACK:
        raise InvalidInput(f"一条反馈最多 {MAX_PER_FEEDBACK} 个附件 (at most {MAX_PER_FEEDBACK} attachments)")
    repo = AttachmentRepository(session, tenant)
    found = {a.id: a for a in await repo.many(ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(f"附件不存在：{'、'.join(missing)} (no such attachment)")
    used = [a for a in found.values() if a.feedback_id is not None]
    if used or await repo.claim(ids, feedback_id) != len(ids):
        name = used[0].name if used else "…"
        raise Conflict(f"附件「{name}」已随另一条反馈报送 (the attachment was already sent with other feedback)")
    for position, i in enumerate(ids, start=1):
        found[i].position = position
    return [ref_of(found[i]) for i in ids]


async def refs_of(session: AsyncSession, tenant: str, feedback_id: str) -> list[AttachmentRef]:
    """The references of a feedback's attachments as this tenant holds them (to send them further up)."""
    return [ref_of(a) for a in await AttachmentRepository(session, tenant).of_feedback([feedback_id])]


async def of_feedback(session: AsyncSession, tenant: str, feedback_ids: list[str]) -> dict[str, list[AttachmentRead]]:
    """The attachments of each feedback, by feedback id."""
    by_feedback: dict[str, list[AttachmentRead]] = {}
    for a in await AttachmentRepository(session, tenant).of_feedback(feedback_ids):
        by_feedback.setdefault(a.feedback_id or "", []).append(AttachmentRead.of(a))
    return by_feedback


# -- receiving: copy in, check, record ------------------------------------------------------------------------
async def receive_refs(ctx: EventContext, refs: list[AttachmentRef], owner: str) -> list[AttachmentRef]:
    """Copy the sender's attachments into this tenant's bucket and record them as belonging to ``owner``
    (the feedback they came with); returns the local references (to send further up).

    Called inside the inbox transaction, before it commits and the message is acked. The copy goes to a
    key made from the sender, its id and the SHA-256, so a redelivery overwrites the same object (one copy,
    never two). A missing or changed object raises ``Conflict`` with the reason: the event is kept in the
    inbox and can be replayed once the sender has it back. A reference outside the sender's own bucket is
    ``Refused``."""
    if not refs:
        return []
    store, sender = ctx.attachments, ctx.sender
    if store is None or sender is None:
        raise RuntimeError("receive_refs needs the event context the inbox gives (attachment store and sender)")
    own = store.bucket_for(sender)
    for ref in refs:
        _check_ref(ref, own, sender)
    bucket = await store.ensure_bucket(ctx.tenant)
    repo = AttachmentRepository(ctx.session, ctx.tenant)
    local, copied = [], False
    for position, ref in enumerate(refs, start=1):
        key = f"received/{sender}/{ref.id}/{ref.sha256}"
        if await repo.stored_at(bucket, key) is None:  # a recorded copy was checked when it was made
            try:
                await store.copy(ref.bucket, ref.key, bucket, key, ref.size, ref.sha256, ref.type)
            except Missing:
                raise Conflict(f"附件「{ref.name}」在 {sender} 的存储中不存在，请其恢复后重放 (attachment {ref.id} is "
                               f"missing at s3://{ref.bucket}/{ref.key}; replay once it is back)") from None
            except Mismatch as exc:
                raise Conflict(f"附件「{ref.name}」与 {sender} 报送时登记的不符：{exc}，请其恢复原文件后重放 "
                               f"(attachment {ref.id} at s3://{ref.bucket}/{ref.key} is not the file that was sent; "
                               "replay once it is restored)") from None
            copied = True
        a = Attachment(id=new_id(), bucket=bucket, key=key, sha256=ref.sha256, size=ref.size, name=ref.name,
                       content_type=ref.type, uploaded_by=sender, uploaded_at=ctx.time.now(), feedback_id=owner,
                       position=position, received_from=sender, source_id=ref.id)
        repo.add(a)
        local.append(ref_of(a))
    if copied:
        store.crash_point()
    return local


def _check_ref(ref: AttachmentRef, own: str, sender: str) -> None:
    if ref.bucket != own:
        raise Refused(f"{sender} may only send attachments from its own bucket {own}, not {ref.bucket}")
    if not _SHA256.match(ref.sha256) or ref.size < 0 or not ref.key or len(ref.key) > 300:
        raise Refused(f"attachment {ref.id} from {sender} is not a valid reference")
    if not 0 < len(ref.name) <= 255 or len(ref.type) > 100 or len(ref.id) > 36:
        raise Refused(f"attachment {ref.id} from {sender} has an invalid name, type or id")


# -- archiving ------------------------------------------------------------------------------------------------
async def dossier_files(session: AsyncSession, tenant: str, feedback_ids: list[str],
                        store: ArchiveStore) -> tuple[dict[str, StoredFile], list[dict]]:
    """The attachments of these feedback as files of the dossier (checked against their SHA-256 now,
    with the SM3 the manifest also carries), and the list that says which file is which."""
    stored: dict[str, StoredFile] = {}
    listing: list[dict] = []
    order = {f: i for i, f in enumerate(feedback_ids)}  # the feedback's order (as given), then each one's own
    rows = sorted(await AttachmentRepository(session, tenant).of_feedback(feedback_ids),
                  key=lambda a: (order[a.feedback_id], a.position or 0))
    for n, a in enumerate(rows, start=1):
        digests = await store.digest_object(a.bucket, a.key)
        if digests is None or digests.size != a.size or digests.sha256 != a.sha256:
            what = "已丢失" if digests is None else "已被改动"
            raise Conflict(f"附件「{a.name}」在本单位存储中{what}，不能归档 (attachment {a.id} at "
                           f"s3://{a.bucket}/{a.key} is {'missing' if digests is None else 'changed'})")
        name = _dossier_name(n, a.name)
        stored[name] = StoredFile(a.bucket, a.key, a.size, a.sha256, digests.sm3, a.content_type)
        listing.append({"file": name, **msgspec.to_builtins(AttachmentRead.of(a))})
    return stored, listing


def _dossier_name(n: int, name: str) -> str:
    """``附件NNN-<name>``: one plain path segment, unique in the dossier, at most 255 bytes."""
    clean = "".join("_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in name).strip()
    clean = clean.encode("utf-8")[:200].decode("utf-8", "ignore") or "file"
    return f"附件{n:03d}-{clean}"
