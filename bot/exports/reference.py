"""The bot's own record of an export as it was when it completed: its manifests' checksums, every data file's MD5
and item count.

An export's checksum files sit in the same bucket as its data, so whoever can rewrite a data file can recompute
its MD5 in manifest-files.json and that file's `.md5` too. The record kept here, taken when the export tracker
first sees the export COMPLETED, is what a later verification compares with: it catches such rewrites.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Column, Engine, Integer, String, Table, Text, insert, select
from sqlalchemy.exc import IntegrityError

from bot.aws.accounts import Place
from bot.core import Core
from bot.db import UtcDateTime, database_now, metadata
from bot.exports.files import DataFile, ExportManifest, read_manifest
from bot.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)

export_manifests = Table(
    "export_manifests",
    metadata,
    Column("export_arn", String(512), primary_key=True),
    Column("export_id", String(128), nullable=False, index=True),
    Column("checksum", Text, nullable=False),  # ExportManifest.checksum: the manifests' MD5s (or the listing's)
    Column("item_count", BigInteger),
    Column("file_count", Integer, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

export_files = Table(
    "export_files",
    metadata,
    Column("export_arn", String(512), primary_key=True),
    Column("position", Integer, primary_key=True),  # the file's place in manifest-files.json
    Column("data_key", String(1024), nullable=False),
    Column("md5", String(32)),
    Column("item_count", BigInteger),
)


@dataclass(frozen=True)
class ExportReference:
    """What an export held when the bot saw it complete."""

    export_arn: str
    checksum: str
    item_count: int | None
    files: tuple[DataFile, ...]
    recorded_at: datetime


class ReferenceStore:
    """Repository of export references; written once per export, never changed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, export_arn: str, manifest: ExportManifest) -> bool:
        """Store the reference of one export; False when it was recorded already (the first record stands)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(export_manifests),
                    {
                        "export_arn": export_arn,
                        "export_id": manifest.location.export_id,
                        "checksum": manifest.checksum,
                        "item_count": manifest.item_count,
                        "file_count": len(manifest.files),
                        "recorded_at": database_now(connection),
                    },
                )
                if manifest.files:
                    connection.execute(
                        insert(export_files),
                        [
                            {
                                "export_arn": export_arn,
                                "position": position,
                                "data_key": data_file.key,
                                "md5": data_file.md5,
                                "item_count": data_file.item_count,
                            }
                            for position, data_file in enumerate(manifest.files)
                        ],
                    )
        except IntegrityError:
            return False
        return True

    def get(self, export_arn: str) -> ExportReference | None:
        """The reference of one export, or None when the bot never recorded one."""
        with self.engine.connect() as connection:
            head = connection.execute(
                select(export_manifests).where(export_manifests.c.export_arn == export_arn)
            ).mappings()
            row = head.first()
            if row is None:
                return None
            files = connection.execute(
                select(export_files).where(export_files.c.export_arn == export_arn).order_by(export_files.c.position)
            ).mappings()
            data_files = tuple(DataFile(f["data_key"], f["md5"], f["item_count"]) for f in files)
        return ExportReference(export_arn, row["checksum"], row["item_count"], data_files, row["recorded_at"])


def record_reference(core: Core, references: ReferenceStore, job: ExportJob) -> bool:
    """Read a COMPLETED export's manifests and keep them as its reference; True when recorded now.

    Never raises: a manifest that cannot be read now is logged, and a later verification says the bot holds no
    reference for it.
    """
    if job.status != ExportStatus.COMPLETED or references.get(job.export_arn) is not None:
        return False
    try:
        manifest = read_manifest(core.aws.s3(Place(job.account_alias, job.region)), job.location)
        return references.record(job.export_arn, manifest)
    except Exception:
        logger.exception("export.manifests_not_recorded", extra={"export_id": job.export_id})
        return False
