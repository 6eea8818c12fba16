"""Audiences in the file store: ``DIR/audiences/<id>.json`` (the record) and ``<id>.summary.json`` (listing).

Each file is written aside, fsynced and renamed into place (``FileStore._write_atomic``), under a flock
so two creators cannot both take the last slot. The record is written before its summary, and the summary
deleted before the record: an audience is listed only when whole. Snapshot clean-up only scans
``snapshots/`` and temporary files of the store root, never ``audiences/``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from analytics.audiences import Audience, audience_json, check_audience_id, parse_audience, summary
from analytics.errors import AudienceError, SnapshotError
from jobs.locks import hold_flock
from jobs.store.common import _parse_json, _to_json

log = logging.getLogger("jobs.store")

_SUMMARY = ".summary.json"


class FileAudiences:
    """Audience methods of :class:`jobs.store.FileStore` (uses its root, atomic writes and error mapping)."""

    root: Path
    _read: Any  # FileStore._read
    _write_atomic: Any  # FileStore._write_atomic
    _mkdir: Any  # FileStore._mkdir
    _unavailable: Any  # FileStore._unavailable

    @property
    def _audience_dir(self) -> Path:
        return self.root / "audiences"

    def save_audience(self, audience: Audience, max_audiences: int) -> None:
        """Save a new audience (record, then summary). Raises AudienceError if the id exists or the store is full."""
        folder = self._audience_dir
        self._mkdir(folder)
        record = folder / f"{check_audience_id(audience.audience_id)}.json"
        with hold_flock(self.root / "audiences.lock"):
            if record.exists() or (folder / f"{audience.audience_id}{_SUMMARY}").exists():
                raise AudienceError(f"Audience {audience.audience_id} exists already; audiences are never "
                                    "overwritten.")
            if len(list(folder.glob(f"*{_SUMMARY}"))) >= max_audiences:
                raise AudienceError(f"The store holds {max_audiences} audiences already (campaigns.max_audiences);"
                                    " delete old ones first.")
            self._write_atomic(record, audience_json(audience).encode("utf-8"))
            self._write_atomic(folder / f"{audience.audience_id}{_SUMMARY}",
                               _to_json(summary(audience), "audience summary").encode("utf-8"))

    def audience(self, audience_id: str) -> Audience:
        """The full audience (members included). Raises AudienceError if unknown or malformed."""
        folder = self._audience_dir
        name = check_audience_id(audience_id)
        raw = self._read(folder / f"{name}.json") if (folder / f"{name}{_SUMMARY}").exists() else None
        if raw is None:
            raise AudienceError(f"No audience {audience_id}.")
        return parse_audience(raw)

    def audiences(self) -> list[dict]:
        """Summaries of every audience (no members), newest first. Malformed files are skipped with a warning."""
        found = []
        try:
            paths = sorted(self._audience_dir.glob(f"*{_SUMMARY}"))
        except OSError as exc:
            raise self._unavailable(exc) from exc
        for path in paths:
            try:
                found.append(_parse_json(self._read(path) or b"", "audience summary"))
            except SnapshotError as exc:
                log.warning("Skipping audience file %s: %s", path.name, exc)
        return sorted(found, key=lambda item: str(item.get("created_at", "")), reverse=True)

    def delete_audience(self, audience_id: str) -> bool:
        """Delete an audience (summary first, then record); False if it did not exist."""
        folder = self._audience_dir
        name = check_audience_id(audience_id)
        if not folder.exists():
            return False
        with hold_flock(self.root / "audiences.lock"):
            existed = False
            for path in (folder / f"{name}{_SUMMARY}", folder / f"{name}.json"):
                try:
                    path.unlink()
                    existed = True
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise self._unavailable(exc) from exc
        return existed


