"""Import legacy files: read → fingerprint → normalise what changed → check → upsert, by batch.

For every kind the same path (the kind's entry in `legacy/kinds.py` says what differs):

1. the reader yields a batch of items; each gets the fingerprint of its legacy record;
2. a record whose fingerprint equals the one stored with its row is unchanged: skipped, not
   normalised, whatever clinic did to the row since;
3. the others are normalised; a record whose ID appeared earlier in the file merges with its
   first copy if identical and is a conflict if not (never an overwrite);
4. a new record is created; a changed one updates its row if clinic left the row as imported
   (its row fingerprint still matches), and is a conflict if clinic edited it too: clinic's
   version is kept unless `prefer="legacy"`; a row never moves to another patient;
5. the kind's check (references, unique UHIDs, queue tokens) and the writes run in one
   `clinic.db.atomic()` block per batch, so a crash (even `kill -9`) leaves whole batches and a
   re-run converges.

The whole way, top to bottom: `management/commands/migrate_json.py` (arguments, output) →
this module → the kind's entry and check in `legacy/kinds.py` → `legacy/bulk.py` (the native
writes); the readers and normalisers it calls are pure.

A file that cannot be read stops the import: the records before the failure point are kept,
later files are not read (exit code 2). Anything unexpected about one record rejects that
record with a reason; it never stops the import.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from django.db import DatabaseError, connection

from clinic.db import atomic, is_mongodb
from legacy import bulk
from legacy.fingerprint import SeenIds, legacy_fingerprint, row_fingerprint
from legacy.kinds import BY_NAME, FINGERPRINTS, KINDS, NAMES, SUFFIXES, Kind
from legacy.normalise import Rejected
from legacy.readers import Item, ReadError, read_items
from legacy.report import ConflictsFile, FileReport, RejectsFile, Report
from patients.models import Patient
from queue_app.services import queue_version_bump

BOTH_CHANGED = "changed in clinic since it was imported, and changed in the legacy file"


class PathError(ValueError):
    """A path the command cannot use (missing, unreadable, or of no known kind)."""


def find_files(paths: list[str], only: set[str] | None = None) -> dict[str, str]:
    """{kind: path} in import order; a directory contributes the files named after the kinds."""
    found: dict[str, str] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for name in NAMES:
                for suffix in SUFFIXES:
                    if (path / f"{name}{suffix}").is_file():
                        found[name] = str(path / f"{name}{suffix}")
        elif path.is_file():
            name = path.name.split(".")[0]
            if name not in BY_NAME:
                raise PathError(
                    f"{path.name}: cannot tell what it holds; name it one of "
                    + ", ".join(f"{n}.json" for n in NAMES)
                )
            found[name] = str(path)
        else:
            raise PathError(f"{given}: no such file or directory")
    for path in found.values():
        if not os.access(path, os.R_OK):
            raise PathError(f"{path}: cannot be read (permission denied)")
    return {n: found[n] for n in NAMES if n in found and (not only or n in only)}


@dataclass(slots=True, eq=False)
class _Entry:
    item: Item
    fp: str
    pk: str | None
    row: dict | None = None
    defaults: dict | None = None
    matched: bool = False  # re-keyed onto a clinic record, whose values the row already kept


# Records a batch (one transaction) holds. MongoDB ends a transaction after 60 s by default
# and advises about 1,000 documents in one; a patient writes ~13 (with its search terms).
SQLITE_BATCH, MONGODB_BATCH = 5000, 500


class Importer:
    def __init__(self, *, dry_run=False, batch_size=None, rejects=None, conflicts=None,
                 prefer="clinic", on_batch=None):  # fmt: skip
        self.dry_run = dry_run
        self.batch_size = batch_size or (MONGODB_BATCH if is_mongodb() else SQLITE_BATCH)
        self.rejects = rejects or RejectsFile(None)
        self.conflicts = conflicts or ConflictsFile(None)
        self.prefer = prefer
        self.on_batch = on_batch or (lambda report: None)
        # A dry run writes nothing, so what earlier files "created" is remembered here instead.
        self.dry = {"patients": {}, "uhids": {}, "claims": {}, "counters": {}} if dry_run else None
        self.days_changed: set = set()  # queue days whose boards redraw after the batch commits
        self.fresh = False  # the table of the file being read was empty when it began

    def run(self, files: dict[str, str]) -> Report:
        if not self.dry_run and not connection.in_atomic_block:
            for kind in KINDS:  # indexes a killed bulk load left dropped
                for model in (kind.model, *kind.fills):
                    bulk.restore_indexes(model)
        report = Report(
            dry_run=self.dry_run, rejects_file=self.rejects.path,
            conflicts_file=self.conflicts.path,
        )  # fmt: skip
        with bulk.page_cache(), bulk.gc_paused() as tick:
            for name, path in files.items():
                kind = BY_NAME[name]
                fr = FileReport(file=os.path.basename(path), kind=name)
                report.files.append(fr)
                started = time.monotonic()
                try:
                    # A first import into an empty table builds its secondary indexes at the end.
                    deferred = (
                        nullcontext()
                        if self.dry_run
                        else bulk.indexes_deferred(kind.model, *kind.fills)
                    )
                    with deferred, SeenIds() as seen:
                        # Into an empty table, a stored row can only be an earlier copy in the
                        # file, which `seen` knows: no need to look rows up.
                        self.fresh = not kind.model.objects.exists()
                        if kind.before_file:
                            kind.before_file(self, path)
                        for items in self._item_batches(path, name, fr):
                            self._batch(kind, items, fr, seen)
                            self.on_batch(fr)
                            tick()
                except ReadError as exc:
                    fr.error = {"message": str(exc), "offset": exc.offset, "reason": exc.reason}
                fr.seconds = time.monotonic() - started
                if fr.error:
                    break
        report.finish()
        return report

    def _item_batches(self, path: str, name: str, fr: FileReport) -> Iterator[list[Item]]:
        """The file's items, a batch at a time; a `ReadError` comes after the batch that holds
        everything read before the failure point. What the reader passes over (keys beside a
        wrapper's records) is a warning in the file's report."""
        batch = []

        def not_read(message: str) -> None:
            fr.warn("not_read", "", "", message)

        try:
            for item in read_items(path, name, on_warning=not_read):
                batch.append(item)
                if len(batch) >= self.batch_size:
                    yield batch
                    batch = []
        except ReadError:
            if batch:
                yield batch
            raise
        if batch:
            yield batch

    # -- one batch ------------------------------------------------------------------------------

    def _batch(self, kind: Kind, items: list[Item], fr: FileReport, seen: SeenIds) -> None:
        entries = []
        for item in items:
            if item.error:
                self.reject(fr, item, None if item.raw is not None else kind.raw_id(item),
                            item.error)  # fmt: skip
                continue
            try:
                fp = legacy_fingerprint(item.original if item.original is not None else item.record)
            except (RecursionError, ValueError, TypeError) as exc:
                self.reject(fr, item, kind.raw_id(item), f"the record cannot be read ({exc})")
                continue
            entries.append(_Entry(item, fp, kind.raw_id(item)))
        stored = self._fingerprints(kind, {e.pk for e in entries if e.pk})
        live = []
        for e in entries:
            if e.pk in stored and stored[e.pk][0] == e.fp:
                live.append(e)  # unchanged since the last import: not normalised
            elif self._normalise(kind, e, fr):
                live.append(e)
        if kind.rekey:
            fresh = [e for e in live if e.row is not None]
            kind.rekey(self, fr, [(e.item, e.row) for e in fresh])
            for e in fresh:
                e.matched, e.pk = e.pk != e.row["id"], e.row["id"]
        stored.update(self._fingerprints(kind, {e.pk for e in live if e.pk not in stored}))
        for e in live:  # an ID the normaliser derived: its record may be unchanged after all
            if e.row is not None and e.pk in stored and stored[e.pk][0] == e.fp:
                e.row = None
        live = self._first_copies(kind, live, fr, seen)
        fr.unchanged += sum(1 for e in live if e.row is None)
        changed = [e for e in live if e.row is not None]
        if changed:
            self._write(kind, changed, stored, fr)
        if self.days_changed:
            if not self.dry_run:
                queue_version_bump(days=self.days_changed)
            self.days_changed = set()

    def _normalise(self, kind: Kind, e: _Entry, fr: FileReport) -> bool:
        try:
            item = e.item
            as_written = kind.as_written and item.original is not None
            row = kind.normalise(item.original if as_written else item.record, item.key)
            for message in row.pop("_notes", None) or ():
                fr.mapped[message] += 1
        except Rejected as exc:
            reason = str(exc)
        except RecursionError:
            reason = "the record is nested too deeply to import"
        except Exception as exc:  # noqa: BLE001 - one odd record must not stop the import
            reason = f"the record could not be imported ({type(exc).__name__}: {exc})"
        else:
            e.row, e.pk = row, row["id"]
            return True
        self.reject(fr, e.item, e.pk, reason)
        return False

    def _fingerprints(self, kind: Kind, pks) -> dict:
        """{pk: (legacy fingerprint, row fingerprint)} of the stored rows among `pks`."""
        if self.fresh:
            return {}
        return bulk.stored_raw(kind.model, pks, FINGERPRINTS)

    def _first_copies(self, kind: Kind, entries: list[_Entry], fr, seen: SeenIds) -> list:
        firsts: dict[str, str] = {}
        for e in entries:
            firsts.setdefault(e.pk, e.fp)
        earlier = seen.first_copies(list(firsts.items()))
        kept = []
        for e in entries:
            first = earlier.get(e.pk)
            if first is None:
                earlier[e.pk] = e.fp
                kept.append(e)
            elif first == e.fp:
                fr.unchanged += 1
                fr.warn("duplicate_merged", e.item.position, e.pk,
                        "written twice identically; imported once")  # fmt: skip
            else:
                reason = (f"{kind.id_field} {e.pk} appeared earlier in the file with different "
                          "content; the first copy is kept")  # fmt: skip
                self.conflict(fr, e.item, e.pk, reason, "the file's first copy", None)
        return kept

    def _write(self, kind: Kind, changed: list[_Entry], stored: dict, fr: FileReport) -> None:
        clinic = bulk.stored_values(kind.model, [e.pk for e in changed if e.pk in stored],
                                    kind.synced)  # fmt: skip
        defaults = {name: kind.model._meta.get_field(name).get_default() for name in kind.synced}
        creates, updates, now_fp = [], [], {}
        for e in changed:
            now = clinic.get(e.pk)
            if now is None:  # fields it leaves out get their defaults (and so in its fingerprint)
                e.defaults = defaults
                creates.append(e)
                continue
            e.row = now | e.row
            if kind.owner and e.row[kind.owner] != now[kind.owner]:
                reason = (f"{kind.what} belongs to {now[kind.owner]} in clinic; the file names "
                          f"{e.row[kind.owner]}: it is never moved")  # fmt: skip
                self.conflict(fr, e.item, e.pk, reason, "clinic", now)
                continue
            now_fp[e.pk] = clinic_fp = _row_fp(kind, now)
            legacy_fp, imported_fp = stored[e.pk]
            untouched = legacy_fp and imported_fp == clinic_fp
            if e.matched or untouched or _row_fp(kind, e.row) == clinic_fp:
                updates.append(e)
            elif self.prefer == "legacy":
                self.conflict(fr, e.item, e.pk, BOTH_CHANGED, "legacy", now)
                fr.conflicts -= 1  # its outcome is the update counted when it is written
                updates.append(e)
            else:
                self.conflict(fr, e.item, e.pk, BOTH_CHANGED, "clinic", now)
        self._commit(kind, creates, updates, now_fp, fr)

    def _commit(self, kind: Kind, creates: list, updates: list, now_fp: dict, fr) -> None:
        mark = (fr.snapshot(), self.rejects.mark(), self.conflicts.mark())
        try:
            with atomic():
                self._write_batch(kind, creates, updates, now_fp, fr)
        except (DatabaseError, ValueError, TypeError, OverflowError) as exc:
            fr.restore(mark[0])
            self.rejects.rewind(mark[1])
            self.conflicts.rewind(mark[2])
            if len(creates) + len(updates) == 1:
                (e,) = creates + updates
                self.reject(fr, e.item, e.pk, f"the database refused it ({exc})")
                return
            for e in creates:  # one at a time: only the record that fails is rejected
                self._commit(kind, [e], [], now_fp, fr)
            for e in updates:
                self._commit(kind, [], [e], now_fp, fr)

    def _write_batch(self, kind, creates, updates, now_fp, fr) -> None:
        pairs = [(e.item, e.row) for e in creates + updates]
        kept = {id(row) for _, row in (kind.check(self, fr, pairs) if kind.check else pairs)}
        new, rewrite, only_fps = [], [], []
        for e in creates + updates:
            if id(e.row) not in kept:
                continue
            e.row["legacy_fingerprint"] = e.fp
            e.row["legacy_row_fingerprint"] = row_fp = _row_fp(kind, e.row, e.defaults)
            if e.pk not in now_fp:
                new.append(e.row)
            elif row_fp == now_fp[e.pk]:
                only_fps.append({"id": e.pk, "legacy_fingerprint": e.fp,
                                 "legacy_row_fingerprint": row_fp})  # fmt: skip
            else:
                rewrite.append(e.row)
        for rows, options in ((new, {"new": True}), (rewrite, {})):
            groups = defaultdict(list)
            for row in rows:
                groups[tuple(row)].append(row)
            for group in groups.values():
                bulk.upsert(kind.model, group, dry_run=self.dry_run, **options)
        if kind.after_write and not self.dry_run and (new or rewrite):
            kind.after_write(new, [row["id"] for row in rewrite])
        if only_fps:
            bulk.update_fields(kind.model, only_fps, dry_run=self.dry_run, compare=False)
        fr.created += len(new)
        fr.updated += len(rewrite)
        fr.unchanged += len(only_fps)

    # -- outcomes -----------------------------------------------------------------------------

    def reject(self, fr: FileReport, item: Item, record_id, reason: str) -> None:
        fr.rejected += 1
        record = item.original if item.original is not None else item.record
        self.rejects.write(fr.file, item.position, record_id, reason, record, raw=item.raw)

    def conflict(self, fr: FileReport, item: Item, record_id, reason, kept, clinic) -> None:
        fr.conflicts += 1
        legacy = item.original if item.original is not None else item.record
        self.conflicts.write(fr.file, item.position, record_id, reason, kept, legacy, clinic)
        fr.warn("conflict", item.position, record_id, reason, kept=kept, legacy=legacy,
                clinic=clinic)  # fmt: skip

    # -- lookups the kinds' checks use (a dry run also sees what it would have created) -------

    def dry_created(self, patients: dict[str, str | None]) -> None:
        if self.dry is not None:
            self.dry["patients"].update(dict.fromkeys(patients, True))
            self.dry["uhids"].update({uhid: pk for pk, uhid in patients.items() if uhid})

    def known_patients(self, ids) -> set[str]:
        found = set(bulk.pks_by(Patient, "id", ids))
        if self.dry:
            found.update(pk for pk in ids if pk in self.dry["patients"])
        return found

    def patient_names(self, ids) -> dict[str, str | None]:
        """{patient_id: stored name} of the known patients (None: seen earlier in a dry run)."""
        names = {pk: v["name"] for pk, v in bulk.stored_values(Patient, ids, ["name"]).items()}
        if self.dry:
            names.update({pk: None for pk in ids if pk in self.dry["patients"] and pk not in names})
        return names

    def uhid_owners(self, uhids) -> dict[str, str]:
        owners = bulk.pks_by(Patient, "uhid", uhids)
        if self.dry:
            owners.update({u: self.dry["uhids"][u] for u in uhids if u in self.dry["uhids"]})
        return owners


def _row_fp(kind: Kind, row: dict, defaults: dict | None = None) -> str:
    if defaults is None:
        return row_fingerprint([row[name] for name in kind.synced])
    return row_fingerprint([row[n] if n in row else defaults[n] for n in kind.synced])
