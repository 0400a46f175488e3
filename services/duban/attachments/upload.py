"""Reading an upload as it arrives: the ``file`` part of a multipart/form-data request, chunk by chunk,
straight from the connection (Litestar's own form parsing would spool the whole file first)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from litestar import Request
from litestar.exceptions import InternalServerException
from multipart import MultipartError, MultipartSegment, ParserLimitReached, PushMultipartParser

from duban.errors import InvalidInput, TooLarge

FIELD = "file"
_OTHER_FIELDS = 64 * 1024  # what the other fields of the form may hold together
_OVERHEAD = 64 * 1024  # headers and boundaries around the file in the request body
_UNREADABLE = "上传内容无法解析，请以 multipart/form-data 上传，文件字段名为 file " \
              "(the upload cannot be read: send multipart/form-data with the file in a field named file)"


@dataclass
class Upload:
    filename: str
    chunks: AsyncIterator[bytes]  # the file's bytes as they arrive


def too_large(max_mb: int) -> TooLarge:
    """The answer to a file over the limit."""
    return TooLarge(f"附件超过 {max_mb} MB 的上限 (the file is larger than the {max_mb} MB limit)")


async def file_of(request: Request, max_mb: int) -> Upload:
    """The request's file part; its bytes are read only as ``chunks`` is iterated."""
    kind, options = request.content_type
    boundary = options.get("boundary")
    if kind != "multipart/form-data" or not boundary:
        raise InvalidInput(_UNREADABLE)
    announced = request.content_length
    if announced is not None and announced > max_mb * 1024 * 1024 + _OVERHEAD:
        raise too_large(max_mb)  # refused before a byte is read
    events = _events(request.stream(), boundary)
    skipped = 0
    async for event in events:
        if isinstance(event, MultipartSegment):
            if event.name == FIELD and event.filename is not None:
                return Upload(event.filename, _file_chunks(events))
        elif event is not None:
            skipped += len(event)
            if skipped > _OTHER_FIELDS:
                raise InvalidInput(_UNREADABLE)
    raise InvalidInput(_UNREADABLE)


async def _file_chunks(events: AsyncIterator[object]) -> AsyncIterator[bytes]:
    async for event in events:
        if event is None or isinstance(event, MultipartSegment):
            break
        yield event  # type: ignore[misc]
    else:
        raise InvalidInput(_UNREADABLE)  # the body ended inside the file: it came incomplete
    async for _ in events:  # the rest of the form: read to its end, so a cut-off body is noticed
        pass


async def _events(stream: AsyncIterator[bytes], boundary: str) -> AsyncIterator[object]:
    parser = PushMultipartParser(boundary, max_segment_count=16)
    try:
        async for chunk in stream:
            if chunk:
                for event in list(parser.parse(chunk)):  # the parser wants each batch taken whole
                    yield event
        parser.close()
    except (ParserLimitReached, MultipartError):
        raise InvalidInput(_UNREADABLE) from None
    except InternalServerException:  # Litestar's word for a client that went away mid-body
        raise InvalidInput("上传中断，未保存 (the upload was cut off; nothing was kept)") from None
