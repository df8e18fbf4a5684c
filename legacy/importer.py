"""Import legacy files: read → normalise → check references and races → upsert in batches.

Each batch is written in one `clinic.db.atomic()` block, so a crash (even `kill -9`) leaves
whole batches; as every write is an upsert by a stable ID, re-running converges on the same
database. A file that cannot be read stops the import: the records before the failure point
are kept (the batch they are in is written), later files are not read (exit code 2).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path

from django.db import connection

from clinic.db import atomic
from legacy import bulk, queue_races
from legacy.pipeline import MODELS, is_large, read_batches
from legacy.readers import Item, ReadError
from legacy.report import FileReport, RejectsFile, Report
from oncology.models import Episode
from patients.models import HistoryEntry, Note, Patient
from patients.services import patient_search_reindex
from queue_app.models import QueueEntry
from queue_app.services import queue_version_bump

ORDER = ("patients", "queue", "notes", "history", "episodes")
ID_FIELDS = {
    "patients": "patient_id", "queue": "queue_id", "notes": "note_id",
    "history": "history_id", "episodes": "_id",
}  # fmt: skip


def find_files(paths: list[str], only: set[str] | None = None) -> dict[str, str]:
    """{kind: path} in import order; a directory contributes the files named after the kinds."""
    found: dict[str, str] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for kind in ORDER:
                for suffix in (".json", ".jsonl", ".ndjson"):
                    if (path / f"{kind}{suffix}").is_file():
                        found[kind] = str(path / f"{kind}{suffix}")
        elif path.is_file():
            kind = path.name.split(".")[0]
            if kind not in ORDER:
                raise ValueError(
                    f"{path.name}: cannot tell what it holds; name it one of "
                    + ", ".join(f"{k}.json" for k in ORDER)
                )
            found[kind] = str(path)
        else:
            raise ValueError(f"{given}: no such file or directory")
    return {k: found[k] for k in ORDER if k in found and (not only or k in only)}


class Importer:
    def __init__(self, *, dry_run=False, batch_size=5000, rejects=None, on_batch=None):
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.rejects = rejects or RejectsFile(None)
        self.on_batch = on_batch or (lambda report: None)
        # A dry run writes nothing, so what earlier files "created" is remembered here instead.
        self.dry = {"patients": {}, "uhids": {}, "claims": {}, "counters": {}} if dry_run else None
        self.repeated: set[str] = set()
        self.first_copy: dict[str, dict] = {}
        self.days_changed: set = set()  # queue days whose boards redraw after the batch commits

    def run(self, files: dict[str, str]) -> Report:
        if not self.dry_run and not connection.in_atomic_block:
            for model in MODELS.values():  # indexes a killed bulk load left dropped
                bulk.restore_indexes(model)
        with bulk.page_cache(), bulk.gc_paused() as self.tick:
            return self._run(files)

    def _run(self, files: dict[str, str]) -> Report:
        report = Report(dry_run=self.dry_run, rejects_file=self.rejects.path)
        for kind, path in files.items():
            fr = FileReport(file=os.path.basename(path), kind=kind)
            report.files.append(fr)
            started = time.monotonic()
            try:
                with self._bulk_load(kind, path):
                    self._import_file(kind, path, fr)
            except ReadError as exc:
                fr.error = {"message": str(exc), "offset": exc.offset, "reason": exc.reason}
            fr.seconds = time.monotonic() - started
            if fr.error:
                break
        report.finish()
        return report

    def _bulk_load(self, kind: str, path: str):
        # A first import of a large file builds the secondary indexes once, at the end.
        if self.dry_run or not is_large(path):
            return nullcontext()
        return bulk.indexes_deferred(MODELS[kind])

    def _import_file(self, kind: str, path: str, fr: FileReport) -> None:
        if kind == "queue":
            day_max, self.repeated = queue_races.prescan(path)
            self.first_copy = {}
            queue_races.raise_counters(day_max, self.dry and self.dry["counters"])
        for batch in read_batches(path, kind, self.batch_size):
            self.tick()
            accepted = []
            for item, row, reason in batch:
                if row is None:
                    record_id = None if item.raw is not None else self._raw_id(kind, item)
                    self._reject(fr, item, record_id, reason)
                else:
                    accepted.append((item, row))
            if accepted:
                with atomic():
                    getattr(self, f"_write_{kind}")(accepted, fr)
            if self.days_changed:
                queue_version_bump(days=self.days_changed)
                self.days_changed = set()
            self.on_batch(fr)
            # Let go of this batch before the next is read: two alive at once put about 10 MB
            # on the peak memory of a large import.
            batch = accepted = None

    @staticmethod
    def _raw_id(kind: str, item: Item):
        if item.key is not None and kind in {"patients", "queue"}:
            return item.key
        record = item.record if isinstance(item.record, dict) else {}
        return record.get(ID_FIELDS[kind])

    def _reject(self, fr: FileReport, item: Item, record_id, reason: str) -> None:
        fr.rejected += 1
        record = item.original if item.original is not None else item.record
        self.rejects.write(fr.file, item.position, record_id, reason, record, raw=item.raw)

    def _upsert(self, model, rows: list[dict], fr: FileReport, before_write=None) -> set:
        """Upsert and count; returns the pks created or updated."""
        # Rows that lack a timestamp leave it out (default on insert, untouched on update).
        changed, groups = set(), defaultdict(list)
        for row in rows:
            groups[tuple(row)].append(row)
        for group in groups.values():
            counts = bulk.upsert(model, group, dry_run=self.dry_run, before_write=before_write)
            fr.created += counts.created
            fr.updated += counts.updated
            fr.unchanged += counts.unchanged
            changed.update(counts.created_pks, counts.updated_pks)
        return changed

    # -- references -----------------------------------------------------------------------

    def _known_patients(self, ids) -> set[str]:
        found = bulk.pks_by(Patient, "id", ids)
        if self.dry:
            found.update({pk: True for pk in ids if pk in self.dry["patients"]})
        return set(found)

    def _patient_names(self, ids) -> dict[str, str | None]:
        """{patient_id: stored name} of the known patients (None: seen earlier in a dry run)."""
        names = {pk: v["name"] for pk, v in bulk.stored_values(Patient, ids, ["name"]).items()}
        if self.dry:
            names.update({pk: None for pk in ids if pk in self.dry["patients"] and pk not in names})
        return names

    def _uhid_owners(self, uhids) -> dict[str, str]:
        owners = bulk.pks_by(Patient, "uhid", uhids)
        if self.dry:
            owners.update({u: self.dry["uhids"][u] for u in uhids if u in self.dry["uhids"]})
        return owners

    # -- one writer per kind ------------------------------------------------------------------

    def _write_patients(self, batch, fr) -> None:
        items = {id(row): item for item, row in batch}
        refused: set[int] = set()  # id() of the rows left out
        claimed: dict[str, str] = {}  # across the key-set groups of this batch

        def check_uhids(changed: list[dict]) -> list[dict]:
            # Only new or changed patients can take a UHID another patient holds.
            owners = self._uhid_owners({row["uhid"] for row in changed if row["uhid"]})
            owners.update(claimed)
            out = []
            for row in changed:
                uhid = row["uhid"]
                owner = owners.get(uhid) if uhid else None
                if owner not in (None, row["id"]):
                    reason = f"UHID {uhid} already belongs to patient {owner}"
                    self._reject(fr, items[id(row)], row["id"], reason)
                    out.append(row)
                elif uhid:
                    owners[uhid] = claimed[uhid] = row["id"]
            refused.update(map(id, out))
            return out

        changed = self._upsert(Patient, [row for _, row in batch], fr, before_write=check_uhids)
        if changed and not self.dry_run:  # the bulk path bypasses the services that keep these
            patient_search_reindex(patient_ids=changed)
        keep = [row for _, row in batch if id(row) not in refused]
        if self.dry:
            self.dry["patients"].update({row["id"]: True for row in keep})
            self.dry["uhids"].update({row["uhid"]: row["id"] for row in keep if row["uhid"]})

    def _orphans(self, batch, known, fr, what: str) -> list[dict]:
        """Reject the rows whose patient is not in `known`; returns them."""
        out = []
        for item, row in batch:
            if row["patient_id"] not in known:
                reason = (
                    f"{what} names patient {row['patient_id']}, "
                    "who is not in patients.json or the database"
                )
                self._reject(fr, item, row["id"], reason)
                out.append(row)
        return out

    def _write_children(self, model, batch, fr, what: str) -> None:
        items = {id(row): item for item, row in batch}

        def check_patients(changed: list[dict]) -> list[dict]:
            # An unchanged row names the patient it is stored with (a foreign key): only new
            # and changed rows need looking up, so a no-change re-run reads no patients.
            known = self._known_patients({row["patient_id"] for row in changed})
            return self._orphans([(items[id(row)], row) for row in changed], known, fr, what)

        self._upsert(model, [row for _, row in batch], fr, before_write=check_patients)

    def _write_notes(self, batch, fr) -> None:
        self._write_children(Note, batch, fr, "the note")

    def _write_history(self, batch, fr) -> None:
        self._write_children(HistoryEntry, batch, fr, "the history entry")

    def _write_queue(self, batch, fr) -> None:
        # Checked before anything else: an entry refused later could already have taken a
        # token. The same read gives the names the patient_name warning compares with.
        names = self._patient_names({row["patient_id"] for _, row in batch})
        orphans = set(map(id, self._orphans(batch, names, fr, "the queue entry")))
        keep = []
        for item, row in batch:
            if id(row) in orphans:
                continue
            if row["id"] in self.repeated:
                first = self.first_copy.get(row["id"])
                if first is None:
                    self.first_copy[row["id"]] = dict(row)
                elif first == row:
                    fr.unchanged += 1
                    fr.warn(
                        "duplicate_queue_id_merged",
                        item.position,
                        row["id"],
                        "written twice identically; imported once",
                    )
                    continue
                else:
                    fr.warn(
                        "duplicate_queue_id_rejected",
                        item.position,
                        row["id"],
                        "written twice with different details; the later copy is rejected",
                    )
                    self._reject(
                        fr,
                        item,
                        row["id"],
                        "this queue_id appeared earlier in the file "
                        "with different details (the old system wrote it twice)",
                    )
                    continue
            keep.append((item, row))
        self._warn_names(keep, names, fr)
        rows = [row for _, row in keep]
        dry = self.dry
        events = queue_races.assign_tokens(rows, dry and dry["claims"], dry and dry["counters"])
        positions = {id(row): item.position for item, row in keep}
        for row, (day, token), what in events:
            fr.warn(
                "token_collision",
                positions[id(row)],
                row["id"],
                f"token {token} on {day} was already taken; {what}",
                day=day.isoformat(),
                token=token,
                new_token=row["token_number"],
            )
        changed = self._upsert(QueueEntry, rows, fr)
        if not self.dry_run:
            self.days_changed.update(row["day"] for row in rows if row["id"] in changed)

    def _warn_names(self, keep, names: dict, fr) -> None:
        for item, row in keep:
            name = names.get(row["patient_id"])
            if row["patient_name"] and name is not None and name != row["patient_name"]:
                fr.warn(
                    "patient_name_differs",
                    item.position,
                    row["id"],
                    f"patient_name {row['patient_name']!r} differs from the patient's "
                    f"name {name!r}; kept as written",
                )

    def _write_episodes(self, batch, fr) -> None:
        mrns = {row["mrn"] for _, row in batch}
        by_uhid = self._uhid_owners(mrns)
        by_id = self._known_patients(mrns - set(by_uhid))
        rows = []
        for item, row in batch:
            patient_id = by_uhid.get(row["mrn"]) or (row["mrn"] if row["mrn"] in by_id else None)
            if patient_id is None:
                reason = (
                    f"no patient has UHID or patient ID {row['mrn']} (the episode's patient_id)"
                )
                self._reject(fr, item, row["id"], reason)
                continue
            rows.append(row | {"patient_id": patient_id})
        self._upsert(Episode, rows, fr)
