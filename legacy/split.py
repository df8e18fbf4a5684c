"""Oncology writes: moving episodes' embedded treatments/tumours into records and back.

The unit of work is a batch of episodes written inside one `clinic.db.atomic()` block (one
SQLite transaction; one MongoDB transaction whose session the bulk writer uses), so a killed
run leaves every episode either untouched or fully moved, and a re-run converges. An episode
with an item that cannot become a record is left exactly as it was and reported.

A split converts a batch before taking the write lock (SQLite has one per database), so worker
processes can convert while another writes. Inside the transaction it first checks that every
episode's arrays are still exactly as read; if anything changed meanwhile, the batch is read
and converted again under the lock. A reverse reads and writes each batch under the lock.
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.apps import apps
from django.db import IntegrityError, connection, connections

from clinic.db import atomic, in_transaction, is_mongodb
from legacy import bulk
from legacy.embedded import (
    SPECS,
    ItemError,
    Spec,
    derived_item_id,
    item_to_row,
    row_to_item,
    typed_fields,
)
from oncology.models import Episode

EXAMPLES_KEPT = 20
ERRORS_KEPT = 1000


@dataclass
class SplitOutcome:
    """What a split or reverse did (or, on a dry run, would do)."""

    episodes_seen: int = 0
    episodes_changed: int = 0
    items_moved: Counter = field(default_factory=Counter)  # by record kind
    items_seen: Counter = field(default_factory=Counter)  # embedded items met by a split
    warnings: Counter = field(default_factory=Counter)
    warning_examples: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    adopted: int = 0  # raw legacy MongoDB documents given an episode ID

    def warn(self, episode_id: str, position: int, kind: str, message: str) -> None:
        self.warnings[kind] += 1
        if len(self.warning_examples) < EXAMPLES_KEPT:
            self.warning_examples.append(
                {"episode": episode_id, "position": position, "kind": kind, "message": message}
            )

    def merge(self, other: SplitOutcome) -> None:
        """Add another batch's (or worker's) outcome to this one."""
        self.episodes_seen += other.episodes_seen
        self.episodes_changed += other.episodes_changed
        self.items_moved.update(other.items_moved)
        self.items_seen.update(other.items_seen)
        self.warnings.update(other.warnings)
        room = EXAMPLES_KEPT - len(self.warning_examples)
        self.warning_examples.extend(other.warning_examples[: max(room, 0)])
        self.errors.extend(other.errors[: max(ERRORS_KEPT - len(self.errors), 0)])
        self.error_count += other.error_count
        self.adopted += other.adopted

    def fail(self, episode_id: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"episode": episode_id, "message": message})


@dataclass
class _Episode:
    id: str
    patient_id: str
    mrn: str
    arrays: dict[str, list | None]  # Episode attname → items (None: not in the document)
    stamp: tuple  # the arrays as stored, to tell whether the episode changed since it was read


# --- reading ----------------------------------------------------------------------------------

_ARRAYS = [spec.array for spec in SPECS]


def _read_episodes(*, after: str = "", until: str = "", ids=None, limit: int = 0):
    """Episodes in pk order after `after` up to `until` (keyset batches), or those in `ids`."""
    # Read below the ORM: a raw legacy document's arrays may hold BSON dates, which the
    # JSONField cannot decode, and the stored text doubles as the episode's stamp.
    where_in = None if ids is None else ("id", ids)
    fields = ["patient_id", "mrn", *_ARRAYS]
    raw = bulk.raw_rows(Episode, fields, after=after, until=until, limit=limit, where_in=where_in)
    decode = (lambda v: v) if is_mongodb() else (lambda v: None if v is None else json.loads(v))
    return [
        _Episode(
            pk, patient_id, mrn or "", dict(zip(_ARRAYS, map(decode, arrays), strict=True)), arrays
        )
        for pk, patient_id, mrn, *arrays in raw
    ]


def _changed_since_read(episodes: list[_Episode]) -> bool:
    """Whether any episode's arrays differ now from when it was read (or it is gone)."""
    now = {pk: tuple(arrays) for pk, *arrays in bulk.raw_rows(
        Episode, _ARRAYS, where_in=("id", [ep.id for ep in episodes])
    )}  # fmt: skip
    return any(now.get(ep.id) != tuple(ep.stamp) for ep in episodes)


def _unadopted_query() -> dict:
    return {"_id": {"$type": "objectId"}}


def legacy_documents_unadopted() -> int:
    """Raw legacy episode documents (an ObjectId `_id`) the ORM cannot address yet."""
    if not is_mongodb():
        return 0
    coll = connection.database[Episode._meta.db_table]
    return coll.count_documents(_unadopted_query())


def _adopt_legacy_documents(batch_size: int) -> int:
    """Give raw legacy documents the episode ID the model reads: their ObjectId as hex, in `_id`
    (which MongoDB cannot change in place, so each is written anew and the original removed)."""
    coll = connection.database[Episode._meta.db_table]
    adopted = 0
    while True:
        with atomic():
            session = connection.session
            docs = list(coll.find(_unadopted_query(), session=session).limit(batch_size))
            if not docs:
                return adopted
            coll.insert_many([{**d, "_id": str(d["_id"])} for d in docs], session=session)
            coll.delete_many({"_id": {"$in": [d["_id"] for d in docs]}}, session=session)
        adopted += len(docs)


def _patients(values: set[str]) -> dict[str, str]:
    """Legacy `patient_id` (a patient's ID, or its MRN in raw legacy documents) → patient ID."""
    patient_model = apps.get_model("patients", "Patient")
    known = dict.fromkeys(patient_model.objects.filter(pk__in=values).values_list("pk", flat=True))
    found = {pk: pk for pk in known}
    rest = values - found.keys()
    if rest:
        found.update(patient_model.objects.filter(uhid__in=rest).values_list("uhid", "pk"))
    return found


# --- split ------------------------------------------------------------------------------------


def _convert(
    spec: Spec, ep: _Episode, patient_id: str, out: SplitOutcome, bson: bool
) -> list[dict]:
    rows, seen = [], set()
    for position, item in enumerate(ep.arrays[spec.array] or []):
        try:
            row, warnings = item_to_row(
                spec,
                item,
                episode_id=ep.id,
                patient_id=patient_id,
                position=position,
                check_bson=bson,
            )
        except ItemError as exc:
            raise ItemError(f"{spec.array.removeprefix('embedded_')}[{position}]: {exc}") from exc
        if row["id"] in seen:  # the old system repeated an ID within the episode
            _new_record_id(spec, row, out, "within the episode")
        seen.add(row["id"])
        for kind, message in warnings:
            out.warn(ep.id, position, kind, f"{spec.label}: {message}")
        rows.append(row)
    return rows


def _new_record_id(spec: Spec, row: dict, out: SplitOutcome, where: str) -> None:
    """Give a record whose item ID another item holds an ID of its own; keep the item's."""
    legacy = row["legacy_id"] or row["id"]
    row["id"] = derived_item_id(spec, row["episode_id"], row["position"], row["embedded_item"])
    row["legacy_id"] = legacy
    out.warn(
        row["episode_id"],
        row["position"],
        "repeated_item_id",
        f"{spec.label}: {spec.id_key} {legacy} is also used {where}; record {row['id']} keeps "
        "it as its legacy ID",
    )


def _unique_in_batch(spec: Spec, rows: list[dict], out: SplitOutcome) -> None:
    owner: dict[str, str] = {}
    for row in rows:
        first = owner.setdefault(row["id"], row["episode_id"])
        if first != row["episode_id"]:
            _new_record_id(spec, row, out, f"in episode {first}")
            owner[row["id"]] = row["episode_id"]


def _settle_stored(spec: Spec, prepared: bulk.Prepared, out: SplitOutcome):
    """(rows, IDs stored for the same episode) once no record ID is another episode's."""
    rows = prepared.rows
    stored = bulk.stored_values(spec.model, [r["id"] for r in rows], ["episode_id"])
    clashing = [
        r for r in rows if stored.get(r["id"], {}).get("episode_id") not in (None, r["episode_id"])
    ]
    if not clashing:
        return prepared, set(stored)
    for row in clashing:
        _new_record_id(spec, row, out, f"by a record of episode {stored[row['id']]['episode_id']}")
    again = bulk.stored_values(spec.model, [r["id"] for r in clashing], ["episode_id"])
    taken = (set(stored) - {r["legacy_id"] for r in clashing}) | set(again)
    return bulk.prepare(spec.model, rows), taken


def _episode_updates(rows: list[dict]) -> list[bulk.Prepared]:
    # One group per set of fields: an array the document never had stays absent.
    groups = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    return [bulk.prepare(Episode, group) for group in groups.values()]


def _write_episode_updates(updates: list[bulk.Prepared], dry_run: bool) -> None:
    # Every row changes its episode (read in this transaction), so nothing is read back.
    for prepared in updates:
        bulk.update_fields(Episode, prepared, dry_run=dry_run, compare=False)


@dataclass
class _SplitPlan:
    """A batch converted outside the write transaction, with its own outcome (merged on commit)."""

    episodes: list[_Episode]
    holding: list[_Episode]
    patients: dict[str, str]
    rows: dict[Spec, bulk.Prepared]
    failed: dict[str, str]
    out: SplitOutcome

    def is_current(self) -> bool:
        return not _changed_since_read(self.episodes)


def _split_plan(episodes: list[_Episode]) -> _SplitPlan:
    """Convert the items of a batch: the CPU-heavy half of a split, run before taking a lock."""
    out = SplitOutcome(episodes_seen=len(episodes))
    holding = [ep for ep in episodes if any(ep.arrays[a] for a in _ARRAYS)]
    rows: dict[Spec, list[dict]] = {spec: [] for spec in SPECS}
    plan = _SplitPlan(episodes, holding, {}, {}, {}, out)
    for ep in holding:
        for spec in SPECS:
            out.items_seen[spec.label] += len(ep.arrays[spec.array] or [])
    plan.patients = _patients({ep.patient_id for ep in holding if ep.patient_id})
    bson = is_mongodb()
    for ep in holding:
        patient_id = plan.patients.get(ep.patient_id)
        if patient_id is None:
            plan.failed[ep.id] = f"patient {ep.patient_id!r} is not a known patient ID or MRN"
            continue
        try:
            converted = {spec: _convert(spec, ep, patient_id, out, bson) for spec in SPECS}
        except ItemError as exc:
            plan.failed[ep.id] = str(exc)
            continue
        for spec, spec_rows in converted.items():
            rows[spec].extend(spec_rows)
    for spec in SPECS:
        _unique_in_batch(spec, rows[spec], out)
    plan.rows = {spec: bulk.prepare(spec.model, rows[spec]) for spec in SPECS}
    return plan


def _split_apply(plan: _SplitPlan, dry_run: bool) -> None:
    """Write a plan; call inside the batch's transaction, after checking the batch is current."""
    if not plan.holding:
        return
    if connection.features.uses_savepoints and not dry_run:
        # Record IDs are almost always new: insert straight away, and only if one is taken
        # already (a savepoint undoes the attempt) look them all up first, as MongoDB does.
        try:
            with atomic():
                _split_write(plan, {spec: set() for spec in SPECS}, dry_run)
            return
        except IntegrityError:
            pass
    stored: dict[Spec, set[str]] = {}
    for spec in SPECS:
        plan.rows[spec], stored[spec] = _settle_stored(spec, plan.rows[spec], plan.out)
    _split_write(plan, stored, dry_run)


class BatchCheckFailed(Exception):
    """A batch's records did not come out as planned; its transaction is rolled back."""


def _check_batch(plan: _SplitPlan, kept: dict[Spec, bulk.Prepared]) -> None:
    """Inside the transaction: every planned record is there, under its episode."""
    for spec, prepared in kept.items():
        ids = [r["id"] for r in prepared.rows]
        stored = bulk.stored_values(spec.model, ids, ["episode_id"])
        wrong = [
            r["id"]
            for r in prepared.rows
            if stored.get(r["id"], {}).get("episode_id") != r["episode_id"]
        ]
        if len(set(ids)) != len(ids) or wrong:
            raise BatchCheckFailed(
                f"{spec.label} records missing or under another episode after writing: "
                f"{', '.join(wrong[:5]) or 'a record ID planned twice'}; the batch of "
                f"{len(plan.episodes)} episodes from {plan.episodes[0].id} was rolled back"
            )


def _split_write(plan: _SplitPlan, stored: dict[Spec, set[str]], dry_run: bool) -> None:
    """Insert the records (update those in `stored`), empty the arrays, then count."""
    failed = plan.failed
    updates = []
    for ep in plan.holding:
        if ep.id in failed:
            continue
        update = {"id": ep.id} | {a: [] for a in _ARRAYS if ep.arrays[a] is not None}
        patient_id = plan.patients[ep.patient_id]
        if patient_id != ep.patient_id:  # a raw legacy document named its MRN
            update |= {"patient_id": patient_id, "mrn": ep.mrn or ep.patient_id}
        updates.append(update)
    moved, written = Counter(), {}
    for spec in SPECS:
        kept, _ = plan.rows[spec].split(lambda r: r["episode_id"] not in failed)
        moved[spec.label] += len(kept.rows)
        written[spec] = kept
        # Records already there (items embedded again since a split) are updated; the rest
        # were found missing in this transaction and are inserted without a second look.
        again, fresh = kept.split(lambda r, taken=stored[spec]: r["id"] in taken)
        bulk.upsert(spec.model, again, dry_run=dry_run)
        bulk.upsert(spec.model, fresh, dry_run=dry_run, new=True)
    _write_episode_updates(_episode_updates(updates), dry_run)
    if not dry_run:
        _check_batch(plan, written)
    for episode_id, message in failed.items():
        plan.out.fail(episode_id, f"left embedded, nothing changed: {message}")
    plan.out.items_moved.update(moved)
    plan.out.episodes_changed += len(updates)


# --- reverse ----------------------------------------------------------------------------------


def _record_fields(spec: Spec) -> list[str]:
    typed = [f.attname for f in typed_fields(spec.model).values()]
    return ["episode_id", "position", "legacy_id", "extra", "embedded_item", *typed]


@dataclass
class _UnsplitPlan:
    """A batch's arrays rebuilt outside the write transaction, with what they were built from."""

    episodes: list[_Episode]
    records: dict[Spec, list[tuple]]  # as stored: compared again under the lock
    updates: list[bulk.Prepared]
    out: SplitOutcome

    def is_current(self) -> bool:
        """Whether the episodes and their records are still as the plan read them."""
        if _changed_since_read(self.episodes):
            return False
        ids = [ep.id for ep in self.episodes]
        return all(_read_records(spec, ids) == self.records[spec] for spec in SPECS)


def _read_records(spec: Spec, episode_ids: list[str]) -> list[tuple]:
    return bulk.raw_rows(spec.model, _record_fields(spec), where_in=("episode_id", episode_ids))


def _records_by_episode(spec: Spec, raw: list[tuple]) -> dict[str, list[dict]]:
    """A spec's stored records grouped by episode, in their array order."""
    decode, grouped = bulk.decoder(spec.model, _record_fields(spec)), defaultdict(list)
    for pk, *values in raw:
        row = decode(values) | {"id": pk}
        grouped[row["episode_id"]].append(row)
    for rows in grouped.values():
        rows.sort(key=lambda r: (r["position"], r["id"]))
    return grouped


def items_by_episode(episode_ids: list[str]) -> dict[Spec, dict[str, list[dict]]]:
    """The embedded items the episodes' records stand for (what a reverse would put back)."""
    return {
        spec: {
            episode_id: [row_to_item(spec, r) for r in rows]
            for episode_id, rows in _records_by_episode(
                spec, _read_records(spec, episode_ids)
            ).items()
        }
        for spec in SPECS
    }


def _unsplit_plan(episodes: list[_Episode]) -> _UnsplitPlan:
    out = SplitOutcome(episodes_seen=len(episodes))
    ids = [ep.id for ep in episodes]
    records = {spec: _read_records(spec, ids) for spec in SPECS}
    by_episode = {spec: _records_by_episode(spec, raw) for spec, raw in records.items()}
    updates = []
    for ep in episodes:
        update = {"id": ep.id}
        for spec in SPECS:
            rows = by_episode[spec].get(ep.id, [])
            if rows:
                # Items embedded since the split stay, after the ones put back.
                update[spec.array] = [row_to_item(spec, r) for r in rows] + (
                    ep.arrays[spec.array] or []
                )
                out.items_moved[spec.label] += len(rows)
        if len(update) > 1:
            updates.append(update)
    out.episodes_changed = len(updates)
    return _UnsplitPlan(episodes, records, _episode_updates(updates), out)


def _unsplit_apply(plan: _UnsplitPlan, dry_run: bool) -> None:
    """Write a plan; call inside the batch's transaction, after checking the batch is current."""
    _write_episode_updates(plan.updates, dry_run)
    changed = [pk for prepared in plan.updates for pk in (r["id"] for r in prepared.rows)]
    if changed and not dry_run:
        for spec in SPECS:
            # _raw_delete: one DELETE/delete_many, without loading each record for signals.
            qs = spec.model.objects.filter(episode_id__in=changed)
            qs._raw_delete(qs.db)


def _in_batch_transaction(episodes, plan, make_plan, apply, dry_run: bool):
    """Apply `plan` (made before taking the lock) in one transaction, first checking that what
    it was made from is unchanged; otherwise, and whenever the transaction is retried (a
    MongoDB write conflict, such as with the open transaction of a killed run, or a busy
    SQLite file), make the plan again under the lock. Returns the plan that was applied."""
    first = [plan]

    def write():
        current = first.pop() if first else None
        if current is None or not current.is_current():
            current = make_plan(_read_episodes(ids=[ep.id for ep in episodes]))
        apply(current, dry_run)
        return current

    return in_transaction(write, attempts=BATCH_ATTEMPTS)


# Retries of one batch's transaction before giving up: about two minutes, as MongoDB keeps a
# killed run's open transaction (and its locks) for transactionLifetimeLimitSeconds, 60 s by
# default, before the re-run's writes to the same episodes can go through.
BATCH_ATTEMPTS = 2400


def _run_range(
    make_plan, apply, after: str, until: str, batch_size: int, dry_run: bool, progress
) -> None:
    """Split or reverse (by the `make_plan`/`apply` pair) the episodes in a key range, batch by
    batch, each planned before taking the lock (see the module docstring)."""
    while True:
        episodes = _read_episodes(after=after, until=until, limit=batch_size)
        if not episodes:
            return
        plan = _in_batch_transaction(episodes, make_plan(episodes), make_plan, apply, dry_run)
        after = episodes[-1].id
        progress(plan.out)


# --- running in worker processes ----------------------------------------------------------------

# Below this many episodes per worker, starting processes costs more than it saves (the
# environment variable is for tests).
MIN_EPISODES_PER_WORKER = int(os.environ.get("CLINIC_SPLIT_MIN_EPISODES_PER_WORKER", 20_000))


def _key_ranges(workers: int) -> list[tuple[str, str]]:
    """(after, up to) episode key ranges of about equal size, one per worker."""
    total = Episode.objects.count() if workers > 1 else 0
    workers = min(workers, total // MIN_EPISODES_PER_WORKER)
    if workers <= 1:
        return [("", "")]
    keys = Episode.objects.order_by("pk").values_list("pk", flat=True)
    bounds = [keys[total * i // workers] for i in range(1, workers)]
    return list(zip(["", *bounds], [*bounds, ""], strict=True))


def _in_workers(run_range, ranges: list[tuple[str, str]], progress) -> None:
    """Run `run_range` on each key range in its own process; report each batch to `progress`.

    Two processes use two cores: one converts a batch while the other holds the write lock.
    A worker that finds its parent gone (kill -9) stops at its next batch boundary.
    """
    ctx = multiprocessing.get_context("fork")
    connections.close_all()  # a database connection must not cross a fork; each opens its own
    pipes, processes = [], []
    for after, until in ranges:
        reader, writer = ctx.Pipe(duplex=False)
        # The worker closes its copies of the read ends, so a dead parent breaks its pipe.
        args = (run_range, after, until, writer, [*pipes, reader], os.getpid())
        process = ctx.Process(target=_worker, args=args, daemon=True)
        process.start()
        writer.close()
        pipes.append(reader)
        processes.append(process)
    try:
        live = set(pipes)
        while live:
            for pipe in multiprocessing.connection.wait(list(live)):
                try:
                    kind, payload = pipe.recv()
                except EOFError:
                    raise RuntimeError("a split worker stopped unexpectedly") from None
                if kind == "failed":
                    if payload.startswith(f"{BatchCheckFailed.__name__}: "):
                        raise BatchCheckFailed(payload.split(": ", 1)[1])
                    raise RuntimeError(f"a split worker failed: {payload}")
                if kind == "done":
                    live.discard(pipe)
                else:
                    progress(payload)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()


def _worker(run_range, after: str, until: str, pipe, read_ends, parent: int) -> None:
    _die_with(parent)
    for end in read_ends:
        end.close()
    try:
        with bulk.page_cache(), bulk.gc_paused() as tick:

            def send(out: SplitOutcome) -> None:
                tick()
                pipe.send(("batch", out))

            run_range(after, until, progress=send)
        pipe.send(("done", None))
    except (BrokenPipeError, ConnectionResetError):
        os._exit(0)  # the parent was killed: nobody will read the rest
    except BaseException as exc:  # reported to the parent, which raises it
        pipe.send(("failed", f"{type(exc).__name__}: {exc}"))


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies, even by kill -9 (Linux).

    A worker left running would keep writing beside the re-run that follows a crash. Its
    open batch is rolled back like any killed transaction. Elsewhere the worker still stops
    at its next batch boundary, when it finds its pipe broken.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before we asked
        os._exit(0)


_PR_SET_PDEATHSIG = 1


# --- entry points -----------------------------------------------------------------------------


def episodes_split_all(
    *,
    reverse: bool = False,
    batch_size: int = 1000,
    dry_run: bool = False,
    on_batch: Callable[[SplitOutcome], None] | None = None,
    workers: int = 1,
) -> SplitOutcome:
    """Split (or reverse) every episode, batch by batch; safe to re-run after a crash.

    With `workers` > 1 and enough episodes, key ranges run in that many processes at once.
    """
    out = SplitOutcome()
    if is_mongodb() and not reverse and not dry_run:
        out.adopted = _adopt_legacy_documents(batch_size)
    steps = (_unsplit_plan, _unsplit_apply) if reverse else (_split_plan, _split_apply)
    run_range = partial(_run_range, *steps, batch_size=batch_size, dry_run=dry_run)

    def progress(batch: SplitOutcome) -> None:
        out.merge(batch)
        if on_batch:
            on_batch(out)

    # Records arrive in episode order, so their secondary indexes grow at the end like the
    # table; unlike an import's, keeping them up to date costs less than building them after.
    ranges = _key_ranges(workers)
    if len(ranges) > 1:
        _in_workers(run_range, ranges, progress)
    else:
        with bulk.page_cache(), bulk.gc_paused() as tick:
            run_range("", "", progress=lambda batch: (tick(), progress(batch)))
    return out


def _one_episode(episode_id: str) -> list[_Episode]:
    episodes = _read_episodes(ids=[episode_id])
    if not episodes:
        raise Episode.DoesNotExist(f"No episode {episode_id}")
    return episodes


def episode_split(*, episode_id: str, dry_run: bool = False) -> SplitOutcome:
    """Move one episode's embedded items into Treatment/Tumour records, atomically."""
    with atomic():
        plan = _split_plan(_one_episode(episode_id))
        _split_apply(plan, dry_run)
    return plan.out


def episode_unsplit(*, episode_id: str, dry_run: bool = False) -> SplitOutcome:
    """Put one episode's records back into its embedded arrays exactly as they were."""
    with atomic():
        plan = _unsplit_plan(_one_episode(episode_id))
        _unsplit_apply(plan, dry_run)
    return plan.out


def embedded_state() -> dict[str, int]:
    """Counts for before/after validation: episodes, records, episodes still holding items."""
    holding = Episode.objects.none()
    for name in _ARRAYS:
        holding = holding | Episode.objects.filter(**{f"{name}__0__isnull": False})
    return {
        "episodes": Episode.objects.count(),
        "legacy_documents_unadopted": legacy_documents_unadopted(),
        "episodes_holding_items": holding.count(),
        **{f"{spec.label}_records": spec.model.objects.count() for spec in SPECS},
    }
