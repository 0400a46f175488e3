"""HTTP routes for attachments: upload one file (before sending it with a feedback), download one."""

from __future__ import annotations

import urllib.parse
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Stream

from duban.attachments import service
from duban.attachments.schemas import AttachmentRead
from duban.attachments.upload import file_of
from duban.confidentiality import service as confidentiality
from duban.policy.policy import Actor
from duban.web import Ctx, FromPath, Node


def _disposition(name: str) -> str:
    # A plain-ASCII fallback for old clients, and the real (Chinese) name per RFC 6266 / 5987.
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"


class AttachmentController(Controller):
    path = "/api/attachments"
    tags = ["attachments"]

    # No body limit here: the file is streamed and the setting's limit is applied to it (413 in Chinese).
    @post("", request_max_body_size=None)
    async def upload(self, request: Request[Actor, str, Any], platform: Node) -> AttachmentRead:
        """Upload one file as multipart/form-data (field ``file``), to send with a feedback (反馈附件).
        It is streamed into the tenant's bucket; no transaction is held while the bytes flow."""
        target = f"{request.method} {request.url.path}"
        await service.authorize_upload(platform, request.user, target)
        upload = await file_of(request, platform.settings.attachment_max_mb)
        return AttachmentRead.of(await service.upload(platform, request.user, upload, target))

    @get("/{attachment_id:str}")
    async def download(self, ctx: Ctx, platform: Node, attachment_id: FromPath[str]) -> Stream:
        """The file, streamed, for those who may read the tenant's items or assignments."""
        if not ctx.policy.can(ctx.actor, "item", "read"):
            ctx.policy.authorize(ctx.actor, "assignment", "read")
        marked = await confidentiality.protected_download(ctx, platform, attachment_id)  # 第八条: a protected
        if marked is not None:  # item's file goes out watermarked with its reader, unit and time, or not at all
            a, body, headers = marked
            return Stream([body], media_type=a.content_type,
                          headers={"Content-Disposition": _disposition(a.name), **headers})
        a, chunks = await service.download(ctx.session, ctx.tenant, platform, attachment_id)
        return Stream(chunks, media_type=a.content_type, headers={
            "Content-Disposition": _disposition(a.name), "Content-Length": str(a.size),
            "X-Content-SHA256": a.sha256})
