"""Slack's file upload, as the stand-in answers it: files.getUploadURLExternal hands out an upload URL and a file id,
the bytes are POSTed to that URL (raw or multipart, Slack takes both; slack_sdk sends them raw), and
files.completeUploadExternal shares the uploaded files in a channel, with an optional comment (slack_sdk's
`files_upload_v2` makes these three calls).

As Slack documents it: `filename` and `length` are required (a zero `length` is `missing_argument`), `files` is
required on completion, a file id that was never issued or whose bytes never arrived is `file_not_found`, and a
file shared without `channel_id`/`channels` stays private. The bytes are kept so a test reads what was shared.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

UPLOAD_PATH = "/upload/v1/"


@dataclass
class UploadedFile:
    """One file as Slack holds it: what getUploadURLExternal was told, the bytes uploaded, where it was shared."""

    id: str
    filename: str
    length: int
    title: str | None = None
    content: bytes | None = None  # None until the bytes reach the upload URL
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    completed: bool = False

    @property
    def text(self) -> str:
        """The uploaded bytes as UTF-8 text (the evidence files the bot shares are text)."""
        return (self.content or b"").decode("utf-8")


class FileUploads:
    """The files of one stand-in; its caller holds the stand-in's lock around every method."""

    def __init__(self) -> None:
        self.files: dict[str, UploadedFile] = {}
        self._sequence = itertools.count(1)

    def upload_url(self, params: dict[str, Any], base_url: str) -> dict[str, Any]:
        """files.getUploadURLExternal."""
        filename = str(params.get("filename") or "")
        length = _integer(params.get("length"))
        if not filename or length is None:
            return {"ok": False, "error": "invalid_arguments"}
        if length <= 0:
            return {"ok": False, "error": "missing_argument"}
        file_id = f"F{next(self._sequence):010d}"
        self.files[file_id] = UploadedFile(file_id, filename, length)
        return {"ok": True, "upload_url": f"{base_url}{UPLOAD_PATH}{file_id}", "file_id": file_id}

    def receive(self, file_id: str, body: bytes) -> tuple[int, bytes]:
        """The POST of the bytes to the upload URL: 200 "OK - <length>" as Slack answers, 404 for an unknown id."""
        known = self.files.get(file_id)
        if known is None or known.completed:
            return 404, b"file_not_found"
        known.content = body
        return 200, f"OK - {len(body)}".encode()

    def complete(self, params: dict[str, Any]) -> tuple[dict[str, Any], list[UploadedFile]]:
        """files.completeUploadExternal: Slack's answer, and the files it shared (in `channels` of each)."""
        listed = params.get("files")
        if isinstance(listed, str):
            try:
                listed = json.loads(listed)
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}, []
        if not isinstance(listed, list) or not listed or not all(isinstance(f, dict) for f in listed):
            return {"ok": False, "error": "invalid_arguments"}, []
        chosen = [self.files.get(str(f.get("id") or "")) for f in listed]
        found = [f for f in chosen if f is not None and f.content is not None and not f.completed]
        if len(found) != len(listed):
            return {"ok": False, "error": "file_not_found"}, []
        channels = _channels(params)
        for entry, upload in zip(listed, found, strict=True):
            upload.title = str(entry.get("title") or upload.filename)
            upload.channels = channels
            upload.initial_comment = str(params["initial_comment"]) if params.get("initial_comment") else None
            upload.completed = True
        shown = [{"id": f.id, "name": f.filename, "title": f.title, "size": len(f.content or b"")} for f in found]
        return {"ok": True, "files": shown}, found


def _channels(params: dict[str, Any]) -> list[str]:
    named = [str(params["channel_id"])] if params.get("channel_id") else []
    named += [c for c in str(params.get("channels") or "").split(",") if c]
    return list(dict.fromkeys(named))


def _integer(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
