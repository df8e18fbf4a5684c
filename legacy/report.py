"""The import report (per file outcomes and warnings) and the rejects file."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

# A report lists this many warnings of one kind per file; the counts are always complete.
MAX_LISTED = 1000


@dataclass
class FileReport:
    file: str
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    conflicts: int = 0
    mapped: Counter = field(default_factory=Counter)  # what the normaliser read differently
    warning_counts: Counter = field(default_factory=Counter)
    warnings: list[dict] = field(default_factory=list)
    error: dict | None = None
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected + self.conflicts

    def warn(self, kind: str, position: str, record_id: str, message: str, **details) -> None:
        self.warning_counts[kind] += 1
        if self.warning_counts[kind] <= MAX_LISTED:
            self.warnings.append(
                {"kind": kind, "position": position, "id": record_id, "message": message} | details
            )

    def snapshot(self) -> tuple:
        counts = (self.created, self.updated, self.unchanged, self.rejected, self.conflicts)
        return counts, Counter(self.warning_counts), len(self.warnings), Counter(self.mapped)

    def restore(self, snapshot: tuple) -> None:
        counts, warning_counts, listed, self.mapped = snapshot
        self.created, self.updated, self.unchanged, self.rejected, self.conflicts = counts
        self.warning_counts = warning_counts
        del self.warnings[listed:]

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "kind": self.kind,
            "records": self.records,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "conflicts": self.conflicts,
            "seconds": round(self.seconds, 3),
            "warning_counts": dict(self.warning_counts),
            "warnings": self.warnings,
            "mapped": dict(self.mapped),
            "error": self.error,
        }


@dataclass
class Report:
    dry_run: bool = False
    files: list[FileReport] = field(default_factory=list)
    rejects_file: str | None = None
    conflicts_file: str | None = None
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return any(f.error for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def conflicts(self) -> int:
        return sum(f.conflicts for f in self.files)

    @property
    def exit_code(self) -> int:
        """0: everything imported; 1: some records rejected or in conflict; 2: stopped, a file
        was unreadable."""
        if self.failed:
            return 2
        return 1 if self.rejected or self.conflicts else 0

    def finish(self) -> None:
        self.seconds = time.monotonic() - self.started

    def as_dict(self) -> dict:
        records = sum(f.records for f in self.files)
        totals = {
            key: sum(getattr(f, key) for f in self.files)
            for key in ("created", "updated", "unchanged", "rejected", "conflicts")
        }
        return {
            "dry_run": self.dry_run,
            "exit_code": self.exit_code,
            "duration_seconds": round(self.seconds, 3),
            "records": records,
            "records_per_second": round(records / self.seconds) if self.seconds else None,
            "totals": totals,
            "rejects_file": self.rejects_file,
            "conflicts_file": self.conflicts_file,
            "files": [f.as_dict() for f in self.files],
        }

    def table(self) -> str:
        head = (
            f"{'file':<16}{'created':>10}{'updated':>10}{'unchanged':>11}{'rejected':>10}"
            f"{'conflicts':>11}"
        )
        lines = [head, "-" * len(head)]
        for f in self.files:
            lines.append(
                f"{f.file:<16}{f.created:>10}{f.updated:>10}{f.unchanged:>11}{f.rejected:>10}"
                f"{f.conflicts:>11}"
            )
            for message, count in sorted(f.mapped.items()):
                lines.append(f"  read as: {count} × {message}")
            for kind, count in sorted(f.warning_counts.items()):
                lines.append(f"  warning: {count} × {kind.replace('_', ' ')}")
            if f.error:
                lines.append(f"  STOPPED: {f.error['message']}")
        return "\n".join(lines)


class RecordsFile:
    """JSON lines, one per record, truncated when opened."""

    def __init__(self, path: str | None):
        self.path = path
        self.count = 0
        # Truncated up front so a stale file from an earlier run is never mistaken for this one.
        self._handle = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115

    def _line(self, line: dict) -> None:
        self.count += 1
        if self._handle is not None:
            self._handle.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")

    def mark(self) -> tuple[int, int]:
        return self.count, self._handle.tell() if self._handle is not None else 0

    def rewind(self, mark: tuple[int, int]) -> None:
        """Take back the lines written since `mark` (a batch that is written again)."""
        self.count, offset = mark
        if self._handle is not None:
            self._handle.seek(offset)
            self._handle.truncate()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class RejectsFile(RecordsFile):
    """file, position, id, reason and the record exactly as it was read."""

    def write(self, file: str, position: str, record_id, reason: str, record, raw=None) -> None:
        line = {"file": file, "position": position, "id": record_id, "reason": reason}
        self._line(line | {"record": record if raw is None else raw})


class ConflictsFile(RecordsFile):
    """file, position, id, reason, which version was kept, and both versions: the legacy record
    as read and clinic's row as stored (or the file's first copy)."""

    def write(self, file, position, record_id, reason, kept: str, legacy, clinic) -> None:
        line = {"file": file, "position": position, "id": record_id, "reason": reason}
        self._line(line | {"kept": kept, "legacy": legacy, "clinic": clinic})
