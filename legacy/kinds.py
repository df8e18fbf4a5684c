"""The one table of legacy record kinds: where each comes from and where it goes.

Adding a kind is one `Kind(...)` entry in `KINDS`: its file name, the field its ID is in, its
normaliser (a pure function: legacy dict → row dict, or `Rejected`), its model and, when its
rows refer to others, a `check` run on the rows about to be written. The importer
(`legacy/importer.py`) does the rest the same way for every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.db import models

from clinic.ids import derived_id
from legacy import bulk, export, normalise, queue_races, surgdb
from oncology.models import Episode
from patients.models import HistoryEntry, Note, Patient, PatientSearchTerm
from patients.search_terms import term_rows
from patients.services import patient_search_reindex
from queue_app.models import QueueEntry

FINGERPRINTS = ("legacy_fingerprint", "legacy_row_fingerprint")
SUFFIXES = (".json", ".jsonl", ".ndjson")
TERM_BATCH = 500  # patients whose search terms are written at once


@dataclass(frozen=True)
class Kind:
    name: str  # the file is <name>.json (or .jsonl, .ndjson); readers know it by this name
    id_field: str  # the legacy field holding the record's ID
    # (record, map key) -> row dict, or raises normalise.Rejected. A row may carry "_notes", a
    # list of sentences on what was read differently ("status in_progress read as …"): the
    # report counts each.
    normalise: Callable
    model: type[models.Model]
    what: str  # "the note", in reasons
    key_is_id: bool = False  # in an object map, the key is the record's ID (else its patient's)
    derive: str | None = None  # a record without an ID gets `derived_id(derive, patient, rest)`
    owner: str | None = None  # a row never moves to another owner: a different one is a conflict
    check: Callable | None = None  # (importer, file report, [(item, row)]) -> the pairs to write
    before_file: Callable | None = None  # (importer, path): once before the file is read
    # (importer, file report, [(item, row)]) after normalising: may point rows at other IDs
    # (an oncology patient who is already a clinic patient)
    rekey: Callable | None = None
    as_written: bool = False  # the normaliser reads the record as written (Extended JSON)
    # (new rows, IDs of rewritten rows), in the batch's transaction: what clinic derives from
    # them (search terms). `fills` names the models it writes: a first import defers their
    # indexes as it does the kind's own.
    after_write: Callable | None = None
    fills: tuple[type[models.Model], ...] = ()
    export: Callable[[str], int] | None = None  # writes the kind's legacy file, returns a count

    def raw_id(self, item) -> str | None:
        """The record's ID as the normaliser would give it, read without normalising. Only a
        hint: the normaliser's ID is the one written (None: the normaliser will say)."""
        if self.key_is_id and item.key is not None:
            value = item.key
        elif isinstance(item.record, dict):
            value = item.record.get(self.id_field)
        else:
            return None
        if isinstance(value, str) and value.strip():
            return value.strip()
        if type(value) is int:
            return str(value)
        if self.derive and not value and isinstance(item.record, dict):
            # As the normaliser derives it: from the patient and the rest of the record.
            record = item.record
            patient = item.key if item.key is not None else record.get("patient_id")
            if isinstance(patient, str) and patient.strip():
                rest = {k: v for k, v in record.items() if k not in {self.id_field, "patient_id"}}
                return derived_id(self.derive, patient.strip(), rest)
        return None

    @cached_property
    def synced(self) -> tuple[str, ...]:
        """The fields a row's fingerprint covers: all but the primary key and fingerprints."""
        return tuple(
            f.attname
            for f in self.model._meta.concrete_fields
            if not f.primary_key and f.attname not in FINGERPRINTS
        )


# -- checks: references and uniques, on the rows about to be created or updated ----------------


def _check_patients(imp, fr, pairs: list[tuple]) -> list[tuple]:
    # Only new or changed patients can take a UHID another patient holds.
    owners = imp.uhid_owners({row["uhid"] for _, row in pairs if row["uhid"]})
    kept = []
    for item, row in pairs:
        uhid = row["uhid"]
        owner = owners.get(uhid) if uhid else None
        if owner not in (None, row["id"]):
            imp.reject(fr, item, row["id"], f"UHID {uhid} already belongs to patient {owner}")
            continue
        if uhid:
            owners[uhid] = row["id"]
        kept.append((item, row))
    imp.dry_created(patients={row["id"]: row["uhid"] for _, row in kept})
    return kept


def _check_children(imp, fr, pairs: list[tuple], what: str) -> list[tuple]:
    known = imp.known_patients({row["patient_id"] for _, row in pairs})
    kept = []
    for item, row in pairs:
        if row["patient_id"] not in known:
            reason = (
                f"{what} names patient {row['patient_id']}, "
                "who is not in patients.json or the database"
            )
            imp.reject(fr, item, row["id"], reason)
        else:
            kept.append((item, row))
    return kept


def _check_queue(imp, fr, pairs: list[tuple]) -> list[tuple]:
    names = imp.patient_names({row["patient_id"] for _, row in pairs})
    kept = _check_children(imp, fr, pairs, "the queue entry")
    for item, row in kept:
        name = names.get(row["patient_id"])
        if row["patient_name"] and name is not None and name != row["patient_name"]:
            message = (
                f"patient_name {row['patient_name']!r} differs from the patient's "
                f"name {name!r}; kept as written"
            )
            fr.warn("patient_name_differs", item.position, row["id"], message)
    rows = [row for _, row in kept]
    positions = {id(row): item.position for item, row in kept}
    for row, (day, token), done in queue_races.assign_tokens(rows, imp.dry):
        message = f"token {token} on {day} was already taken; {done}"
        fr.warn("token_collision", positions[id(row)], row["id"], message,
                day=day.isoformat(), token=token, new_token=row["token_number"])  # fmt: skip
    imp.days_changed.update(row["day"] for row in rows)
    return kept


def _patients_written(new: list[dict], rewritten: list[str]) -> None:
    # New patients have no terms yet: insert them on the bulk path (ORM writes of ~13 rows a
    # patient were most of a first import's time); a rewrite writes only the difference.
    for start in range(0, len(new), TERM_BATCH):  # ~13 rows a patient: bound the memory
        searched = [(r["id"], r["name"], r.get("uhid"), r.get("nhs_number"), r.get("phone"))
                    for r in new[start : start + TERM_BATCH]]  # fmt: skip
        bulk.upsert(PatientSearchTerm, term_rows(searched), new=True)
    if rewritten:
        patient_search_reindex(patient_ids=rewritten)


def _rekey_patients(imp, fr, pairs: list[tuple]) -> None:
    surgdb.prepare_patients(
        pairs, fr, lambda attname, values: bulk.pks_by(Patient, attname, values),
        lambda pks, fields: bulk.stored_values(Patient, pks, fields),
    )  # fmt: skip


def _check_episodes(imp, fr, pairs: list[tuple]) -> list[tuple]:
    # The episode's patient_id is the MRN: a patient's UHID, failing that a patient ID, and
    # (an oncology patient merged into one registered under another number) its NHS number.
    mrns = {row["mrn"] for _, row in pairs}
    by_uhid = imp.uhid_owners(mrns)
    by_id = imp.known_patients(mrns - set(by_uhid))
    by_nhs = surgdb.owners_by_nhs(
        {row["nhs_number"] for _, row in pairs if row["mrn"] not in by_uhid.keys() | by_id}
    )
    kept = []
    for item, row in pairs:
        patient_id = by_uhid.get(row["mrn"]) or (row["mrn"] if row["mrn"] in by_id else None)
        patient_id = patient_id or by_nhs.get(row["nhs_number"])
        if patient_id is None:
            reason = f"no patient has UHID or patient ID {row['mrn']} (the episode's patient_id)"
            imp.reject(fr, item, row["id"], reason)
            continue
        row["patient_id"] = patient_id
        kept.append((item, row))
    return kept


KINDS: tuple[Kind, ...] = (
    Kind(
        "patients", "patient_id", normalise.patient, Patient, "the patient", key_is_id=True,
        check=_check_patients, rekey=_rekey_patients,
        after_write=_patients_written, fills=(PatientSearchTerm,),
        export=lambda path: export.write_map(path, export.patients()),
    ),
    Kind(
        "queue", "queue_id", normalise.queue_entry, QueueEntry, "the queue entry",
        key_is_id=True, owner="patient_id", check=_check_queue,
        before_file=lambda imp, path: queue_races.prepare_counters(imp, path),
        export=lambda path: export.write_array(path, export.queue()),
    ),
    Kind(
        "notes", "note_id", normalise.note, Note, "the note", owner="patient_id", derive="NOTE",
        check=lambda imp, fr, pairs: _check_children(imp, fr, pairs, "the note"),
        export=lambda path: export.write_map(path, export.notes(), grouped=True),
    ),
    Kind(
        "history", "history_id", normalise.history_entry, HistoryEntry, "the history entry",
        owner="patient_id", derive="HIST",
        check=lambda imp, fr, pairs: _check_children(imp, fr, pairs, "the history entry"),
        export=lambda path: export.write_array(path, export.history()),
    ),
    Kind(
        "episodes", "_id", normalise.episode, Episode, "the episode", check=_check_episodes,
        as_written=True,
        export=lambda path: export.write_lines(path, export.episodes()),
    ),
)  # fmt: skip
BY_NAME = {kind.name: kind for kind in KINDS}
NAMES = tuple(BY_NAME)
