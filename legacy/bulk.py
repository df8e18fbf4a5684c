"""Bulk upsert by primary key through each backend's native bulk path.

The one documented exception to "ORM only" (DESIGN.md): `bulk_create` tops out near 20k rows/s,
so imports write with DB-API `executemany` on Django's own SQLite connection and with pymongo
`bulk_write` on MongoDB. Table, collection and column names come from the models' `_meta`.

Public interface (stable; `split_embedded` builds on it):

- `upsert(model, rows, dry_run=False, before_write=None, new=False) -> Counts` inserts rows
  whose primary key is new and updates rows whose stored values differ; rows equal to what is
  stored are not rewritten. `before_write` may veto changed rows; `new=True` skips reading
  back rows the caller knows are new (see the docstring).
- `update_fields(model, rows, dry_run=False, compare=True) -> Counts` updates only the given
  fields of rows that already exist (`created` stays 0; unknown keys count as `missing`);
  `compare=False` writes without reading the rows back.
- `stored_values(model, pks, fields) -> {pk: {attname: value}}` reads rows back as Python values;
  `stored_raw(model, pks, fields) -> {pk: tuple}` as stored (for text fields).
- `raw_rows(model, fields, after=, until=, limit=)` / `raw_rows(model, fields, where_in=)`
  reads `(pk, *values)` in pk order as the database holds them: keyset batches for long jobs;
  `decoder(model, fields)` turns such values into the ORM's Python values.
- `page_cache()` enlarges SQLite's page cache while an import runs; `gc_paused()` keeps the
  cyclic garbage collector out of a bulk job (`split_embedded` uses it).
- `indexes_deferred(*models)` drops the models' `Meta.indexes` while empty tables are filled and
  builds them once at the end; `restore_indexes(model)` rebuilds any that a killed run left
  dropped.
- `pks_by(model, attname, values) -> {value: pk}` finds rows by another (unique) field;
  `pks_by_pairs(model, (a, b), pairs) -> {(a, b): pk}` by two fields.

`prepare(model, rows)` converts rows ahead of `upsert` (for example before taking a lock).

A row is a dict keyed by field attname (`patient_id`, not `patient`) holding Python values
(aware datetimes, dicts for JSON). It must contain the primary key. Fields a row leaves out get
their model default on insert and are left alone on update, so live-system fields the legacy
files do not carry survive re-imports. Each call runs in one `clinic.db.atomic()` block.
"""

from __future__ import annotations

import datetime
import gc
import json
import operator
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, models

from clinic.db import atomic, is_mongodb
from legacy import jsontext

# SQLite's default limit on bound parameters is 32766 since 3.32; stay well below older ones.
_READ_CHUNK = 900
UTC = datetime.UTC


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    skipped: int = 0
    created_pks: list = field(default_factory=list, repr=False)
    updated_pks: list = field(default_factory=list, repr=False)

    def __iadd__(self, other: Counts) -> Counts:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.missing += other.missing
        self.skipped += other.skipped
        return self


@dataclass(frozen=True)
class _Column:
    attname: str
    column: str
    field: models.Field


def _identity(value):
    return value


def _sqlite_converter(f: models.Field):
    kind = f.get_internal_type()
    if kind == "DateTimeField":

        def to_db(value):
            if value is None or isinstance(value, str):
                return value
            if value.tzinfo is UTC:  # the normalisers' output: skip the conversion
                return _utc_text(value)
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return value.isoformat(" ")

        return to_db
    if kind == "DateField":
        return lambda value: value if value is None or isinstance(value, str) else value.isoformat()
    if kind == "JSONField" and f.encoder is None:
        dumps = jsontext.dumps
        return lambda value: None if value is None else "{}" if value == {} else dumps(value)
    target = f.target_field if f.is_relation else f
    if target.get_internal_type() in {"CharField", "TextField"}:
        return _identity
    if kind in _SQLITE_NUMBERS:
        # sqlite3 binds Python numbers as they are; skip the per-value connection lookups.
        plain = _SQLITE_NUMBERS[kind]

        def number(value):
            if value is None or type(value) is plain:
                return value
            return f.get_db_prep_save(value, connection)

        return number
    return lambda value: f.get_db_prep_save(value, connection)


_SQLITE_NUMBERS = dict.fromkeys(
    [
        "IntegerField",
        "SmallIntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
    ],
    int,
) | {"FloatField": float}


def _mongo_converter(f: models.Field):
    def to_db(value):
        value = f.get_db_prep_save(value, connection)
        if isinstance(value, datetime.datetime):
            # BSON dates keep milliseconds; compare what the server will give back.
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        return value

    return to_db


@cache
def _columns(model: type[models.Model], vendor: str) -> dict[str, _Column]:
    return {f.attname: _Column(f.attname, f.column, f) for f in model._meta.concrete_fields}


@cache
def _converter(f: models.Field, vendor: str):
    return _mongo_converter(f) if vendor == "mongodb" else _sqlite_converter(f)


_TWO_DIGITS = [f"{n:02d}" for n in range(100)]


def _utc_text(value: datetime.datetime) -> str:
    """`str()` of the naive UTC time, as Django's SQLite backend stores it.

    Built from the parts, which is cheaper than `isoformat()` of an aware datetime."""
    if value.year < 1000:
        return value.isoformat(" ")[:-6]
    two = _TWO_DIGITS
    text = (
        f"{value.year}-{two[value.month]}-{two[value.day]} "
        f"{two[value.hour]}:{two[value.minute]}:{two[value.second]}"
    )
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


def _converters(model, attnames: Sequence[str]):
    cols = _columns(model, connection.vendor)
    unknown = [name for name in attnames if name not in cols]
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {unknown}")
    return [(cols[n].column, _converter(cols[n].field, connection.vendor)) for n in attnames]


def _defaults(model, given: set[str]) -> dict[str, Any]:
    return {
        f.attname: f.get_default()
        for f in model._meta.concrete_fields
        if f.attname not in given and not f.primary_key
    }


def _db_rows(model, rows: list[dict], attnames: list[str]) -> list[tuple]:
    # The hot loop of an import: fetch all values at once, convert only the columns that need it.
    convert = [
        (i, c) for i, (_, c) in enumerate(_converters(model, attnames)) if c is not _identity
    ]
    get = operator.itemgetter(*attnames) if len(attnames) > 1 else lambda row: (row[attnames[0]],)
    out = []
    for row in rows:
        values = list(get(row))
        for i, c in convert:
            values[i] = c(values[i])
        out.append(tuple(values))
    return out


def stored_raw(model: type[models.Model], pks: Iterable, fields: Sequence[str]) -> dict:
    """`{pk: (values as stored)}` of the rows among `pks`: for text fields and text keys,
    which the backends store as they are."""
    cols = _columns(model, connection.vendor)
    return _read_raw(model, list(pks), [cols[name].column for name in fields])


def _read_raw(model, pks: list, columns: list[str]) -> dict[Any, tuple]:
    """Stored values of `columns` by pk, in the backend's own representation."""
    return {row[0]: row[1:] for row in _read_where_in(model, model._meta.pk.column, pks, columns)}


def _read_where_in(model, key: str, values: list, columns: list[str]) -> list[tuple]:
    """`(pk, *columns)` of the rows whose column `key` holds one of `values`, unordered."""
    pk_col = model._meta.pk.column
    if is_mongodb():
        coll = connection.database[model._meta.db_table]
        projection = {c: 1 for c in columns} | {"_id": 0, pk_col: 1}
        found = []
        for start in range(0, len(values), 10_000):
            chunk = values[start : start + 10_000]
            docs = coll.find({key: {"$in": chunk}}, projection, session=connection.session)
            found.extend((doc[pk_col], *(doc.get(c) for c in columns)) for doc in docs)
        return found
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    # ifnull() hides the declared type, so Django's registered sqlite3 converters leave the
    # stored text alone and it compares with what we would write.
    select = ", ".join(f'ifnull("{c}", NULL)' for c in [pk_col, *columns])
    found = []
    for start in range(0, len(values), _READ_CHUNK):
        chunk = values[start : start + _READ_CHUNK]
        marks = ",".join("?" * len(chunk))
        sql = f'SELECT {select} FROM "{model._meta.db_table}" WHERE "{key}" IN ({marks})'
        found.extend(cursor.execute(sql, chunk))
    return found


def _write_sqlite(model, inserts: list[tuple], updates: list[tuple], cols: list[str]) -> None:
    cursor = connection.connection.cursor()
    table = model._meta.db_table
    if inserts:
        names = ", ".join(f'"{c}"' for c in cols)
        marks = ", ".join("?" * len(cols))
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', inserts)
    if updates:
        pk_col, rest = cols[0], cols[1:]
        sets = ", ".join(f'"{c}" = ?' for c in rest)
        cursor.executemany(
            f'UPDATE "{table}" SET {sets} WHERE "{pk_col}" = ?',
            [(*row[1:], row[0]) for row in updates],
        )


def _write_mongo(model, inserts: list[tuple], updates: list[tuple], cols: list[str]) -> None:
    from pymongo import UpdateOne

    coll = connection.database[model._meta.db_table]
    if inserts:
        # New rows are inserts: an upsert first looks its key up, and a key someone else took
        # meanwhile must fail (IntegrityError), not overwrite their row.
        docs = [dict(zip(cols, row, strict=True)) for row in inserts]
        coll.insert_many(docs, ordered=False, session=connection.session)
    if updates:
        pk_col = cols[0]
        ops = [UpdateOne({pk_col: row[0]}, {"$set": dict(zip(cols, row, strict=True))})
               for row in updates]  # fmt: skip
        coll.bulk_write(ops, ordered=False, session=connection.session)


def _plan(model, rows: list[dict]) -> list[str]:
    pk_name = model._meta.pk.attname
    attnames = [pk_name, *sorted(k for k in rows[0] if k != pk_name)]
    if any(len(row) != len(attnames) for row in rows):
        raise ValueError("every row in one upsert call must have the same fields")
    return attnames


@dataclass(frozen=True)
class Prepared:
    """Rows converted ahead of time to what the database stores (see `prepare`)."""

    attnames: list[str]
    rows: list[dict]
    db_rows: list[tuple]

    def split(self, test: Callable[[dict], bool]) -> tuple[Prepared, Prepared]:
        """(the rows that pass `test`, the rest)."""
        yes, no = Prepared(self.attnames, [], []), Prepared(self.attnames, [], [])
        for row, db_row in zip(self.rows, self.db_rows, strict=True):
            side = yes if test(row) else no
            side.rows.append(row)
            side.db_rows.append(db_row)
        return yes, no


def prepare(model: type[models.Model], rows: list[dict]) -> Prepared:
    """Convert rows for `upsert` in advance: the CPU-heavy part, done before taking a lock."""
    if not rows:
        return Prepared([model._meta.pk.attname], [], [])
    attnames = _plan(model, rows)
    return Prepared(attnames, rows, _db_rows(model, rows, attnames))


def upsert(
    model: type[models.Model],
    rows: list[dict] | Prepared,
    dry_run: bool = False,
    before_write: Callable[[list[dict]], set] | None = None,
    new: bool = False,
) -> Counts:
    """Insert new rows and update changed ones by primary key; see the module docstring.

    `before_write(changed_rows)` (optional) sees only the rows about to be created or updated,
    inside the transaction, and returns those of them to leave out (counted as `skipped`):
    checks that only matter for a change (a unique field, a reference) then cost nothing on a
    no-change re-run.
    `new=True` says the caller found none of the pks stored, in the transaction it calls this
    in: the rows are inserted without reading them back first.
    """
    counts = Counts()
    if not isinstance(rows, Prepared):
        rows = prepare(model, rows)
    if not rows.rows:
        return counts
    attnames = rows.attnames
    with atomic():
        db_rows, cols, stored = _with_stored(model, rows, read=not new)
        rows = rows.rows
        json_cols = _json_columns(model, attnames)
        changed = _changes(db_rows, stored, json_cols)
        if before_write is not None and any(changed):
            left_out = before_write([r for r, c in zip(rows, changed, strict=True) if c])
            if left_out:
                out = {id(row) for row in left_out}
                kept = [i for i, row in enumerate(rows) if id(row) not in out]
                counts.skipped = len(rows) - len(kept)
                # Again without them: a copy of a repeated pk may now be the first to insert.
                db_rows = [db_rows[i] for i in kept]
                changed = _changes(db_rows, stored, json_cols)
        inserts, updates = [], []
        for row, kind in zip(db_rows, changed, strict=True):
            if kind == "insert":
                inserts.append(row)
            elif kind == "update":
                updates.append(row)
        inserts = _dedupe_last(inserts)
        counts.created, counts.updated = len(inserts), len(updates)
        counts.unchanged = len(db_rows) - counts.created - counts.updated
        counts.created_pks = [r[0] for r in inserts]
        counts.updated_pks = [r[0] for r in updates]
        if dry_run:
            return counts
        if inserts:
            defaults = _defaults(model, set(attnames))
            ins_names = [*attnames, *defaults]
            extra = _db_rows(model, [defaults], list(defaults))[0] if defaults else ()
            ins_cols = [c for c, _ in _converters(model, ins_names)]
            inserts = [(*row, *extra) for row in inserts]
        else:
            ins_cols = cols
        _write(model, inserts, ins_cols, updates, cols)
    return counts


def _with_stored(model, prepared: Prepared, read: bool = True):
    """The rows as the database holds values, their columns, and what is stored under them."""
    db_rows = prepared.db_rows
    cols = [c for c, _ in _converters(model, prepared.attnames)]
    stored = _read_raw(model, [r[0] for r in db_rows], cols[1:]) if read else {}
    return db_rows, cols, stored


def _json_columns(model, attnames: list[str]) -> frozenset[int]:
    """Positions (after the pk) of the JSON columns among `attnames`."""
    cols = _columns(model, connection.vendor)
    return frozenset(
        i
        for i, name in enumerate(attnames[1:])
        if cols[name].field.get_internal_type() == "JSONField"
    )


def _differs(old: tuple, new: tuple, json_cols: frozenset[int]) -> bool:
    if old == new:
        return False
    # JSON text written by the ORM is spaced differently from ours: compare those by value.
    return any(
        a != b and not (i in json_cols and isinstance(a, str) and _same_json(a, b))
        for i, (a, b) in enumerate(zip(old, new, strict=True))
    )


def _same_json(a: str, b) -> bool:
    return isinstance(b, str) and json.loads(a) == json.loads(b)


def _changes(db_rows: list[tuple], stored: dict, json_cols: frozenset[int]) -> list:
    """`insert`, `update` or None for each row. A pk repeated in the batch is compared with
    its earlier copy, which the batch writes first."""
    written: dict = {}
    kinds = []
    for row in db_rows:
        pk = row[0]
        old = written[pk] if pk in written else stored.get(pk)
        if old is None:
            kind = "insert"
        elif _differs(old, row[1:], json_cols):
            kind = "update"
        else:
            kind = None
        if kind:
            written[pk] = row[1:]
        kinds.append(kind)
    return kinds


def _dedupe_last(rows: list[tuple]) -> list[tuple]:
    # Keep one insert per pk; later duplicates in the same batch were turned into updates.
    if len({row[0] for row in rows}) == len(rows):
        return rows
    seen: set = set()
    out = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            out.append(row)
    return out


def _write(model, inserts, ins_cols, updates, cols) -> None:
    # Errors as Django's (IntegrityError for a taken key), whichever driver raised them: the
    # importer then retries the batch record by record and rejects only the one that fails.
    if not is_mongodb():
        with connection.wrap_database_errors:
            _write_native(model, inserts, ins_cols, updates, cols)
        return
    from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

    try:
        _write_native(model, inserts, ins_cols, updates, cols)
    except (BulkWriteError, DuplicateKeyError) as exc:
        raise IntegrityError(str(exc)[:500]) from exc
    except PyMongoError as exc:  # e.g. a transaction the server ended (NoSuchTransaction)
        raise DatabaseError(str(exc)[:500]) from exc


def _write_native(model, inserts, ins_cols, updates, cols) -> None:
    if is_mongodb():
        _write_mongo(model, inserts, [], ins_cols)
        _write_mongo(model, [], updates, cols)
    else:
        connection.ensure_connection()
        _write_sqlite(model, inserts, [], ins_cols)
        _write_sqlite(model, [], updates, cols)


def update_fields(
    model: type[models.Model],
    rows: list[dict] | Prepared,
    dry_run: bool = False,
    compare: bool = True,
) -> Counts:
    """Update only the fields each row names (plus its pk) on rows that exist already.

    `compare=False` is for a caller that read the rows in this transaction and knows each one
    changes: they are written without being read back (a pk that is not stored writes nothing).
    Only then may the rows come `prepare`d.
    """
    if not compare:
        return _update_unread(model, rows, dry_run)
    counts = Counts()
    if not rows:
        return counts
    prepared = prepare(model, rows)
    attnames = prepared.attnames
    with atomic():
        db_rows, cols, stored = _with_stored(model, prepared)
        json_cols = _json_columns(model, attnames)
        updates = []
        for row in db_rows:
            old = stored.get(row[0])
            if old is None:
                counts.missing += 1
            elif _differs(old, row[1:], json_cols):
                updates.append(row)
                stored[row[0]] = row[1:]
            else:
                counts.unchanged += 1
        counts.updated = len(updates)
        counts.updated_pks = [r[0] for r in updates]
        if not dry_run:
            _write(model, [], cols, updates, cols)
    return counts


def _update_unread(model, rows: list[dict] | Prepared, dry_run: bool) -> Counts:
    if not isinstance(rows, Prepared):
        rows = prepare(model, rows)
    pk_name = model._meta.pk.attname
    counts = Counts(updated=len(rows.rows), updated_pks=[row[pk_name] for row in rows.rows])
    if rows.rows and not dry_run:
        cols = [c for c, _ in _converters(model, rows.attnames)]
        with atomic():
            _write(model, [], cols, rows.db_rows, cols)
    return counts


def raw_rows(
    model: type[models.Model],
    fields: Sequence[str],
    *,
    after: Any = None,
    until: Any = None,
    limit: int = 0,
    where_in: tuple[str, Iterable] | None = None,
) -> list[tuple]:
    """`(pk, *values)` in pk order, values as stored (JSON as text on SQLite; as BSON decodes,
    with None for a field a document lacks, on MongoDB): the rows with a pk after `after` and
    up to `until` (keyset pagination: no offset, no full load), or, given
    `where_in=(field, values)`, those whose field holds one of the values.
    """
    cols = _columns(model, connection.vendor)
    pk_col = model._meta.pk.column
    columns = [cols[name].column for name in fields]
    if where_in is not None:
        name, values = where_in
        return sorted(_read_where_in(model, cols[name].column, list(values), columns))
    if is_mongodb():
        query = {pk_col: {"$gt": after or ""} | ({"$lte": until} if until else {})}
        projection = {"_id": 0, pk_col: 1} | {c: 1 for c in columns}
        docs = connection.database[model._meta.db_table].find(
            query, projection, session=connection.session
        )
        docs = docs.sort(pk_col, 1).limit(limit)
        return [(doc[pk_col], *(doc.get(c) for c in columns)) for doc in docs]
    connection.ensure_connection()
    select = ", ".join(f'ifnull("{c}", NULL)' for c in [pk_col, *columns])
    where, params = f'"{pk_col}" > ?', [after or ""]
    if until:
        where, params = f'{where} AND "{pk_col}" <= ?', [*params, until]
    sql = f'SELECT {select} FROM "{model._meta.db_table}" WHERE {where} ORDER BY "{pk_col}"'
    if limit:
        sql, params = f"{sql} LIMIT ?", [*params, limit]
    return connection.connection.cursor().execute(sql, params).fetchall()


def decoder(model: type[models.Model], fields: Sequence[str]) -> Callable[[Sequence], dict]:
    """Turns stored values of `fields` (as `raw_rows` gives them) into `{attname: value}` with
    the Python values the ORM would give."""
    cols = _columns(model, connection.vendor)
    readers = [(name, _from_db(cols[name].field)) for name in fields]

    def decode(values: Sequence) -> dict:
        return {
            name: None if v is None else read(v)
            for (name, read), v in zip(readers, values, strict=True)
        }

    return decode


def stored_values(model: type[models.Model], pks: Iterable, fields: Sequence[str]) -> dict:
    """`{pk: {attname: python value}}` for the pks that exist, read without the ORM's overhead."""
    pks = list(pks)
    if not pks:
        return {}
    cols = _columns(model, connection.vendor)
    wanted = [cols[name] for name in fields]
    ((_, to_db),) = _converters(model, [model._meta.pk.attname])
    by_db = {to_db(pk): pk for pk in pks}
    raw = _read_raw(model, list(by_db), [c.column for c in wanted])
    decode = decoder(model, fields)
    return {by_db[db_pk]: decode(values) for db_pk, values in raw.items()}


# SQLite's page cache while importing: the default 2 MB thrashes once the indexes outgrow it.
# It is process memory: at 32 MB a million-patient import peaked at 162 MB, over its 150 MB floor.
PAGE_CACHE_KIB = 16 * 1024
INDEX_BUILD_CACHE_KIB = 8 * 1024


@contextmanager
def gc_paused(every: int = 20):
    """No automatic cyclic garbage collection during a bulk job; yields `tick()`, to call once
    per batch, which collects every `every` batches (the job's rare cycles: ORM compilers).

    A bulk job allocates millions of short-lived containers; the collector would otherwise
    keep rescanning everything alive since start-up (figure in docs/migrating.md)."""
    batches = 0

    def tick() -> None:
        nonlocal batches
        batches += 1
        if batches % every == 0:
            gc.collect()

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield tick
    finally:
        if enabled:
            gc.enable()


@contextmanager
def page_cache(kib: int = PAGE_CACHE_KIB):
    """A larger SQLite page cache for the duration of an import (no-op on MongoDB)."""
    if is_mongodb():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def restore_indexes(model: type[models.Model]) -> list[str]:
    """Create the model's `Meta.indexes` that the database lacks; returns their names."""
    with connection.cursor() as cursor:
        present = connection.introspection.get_constraints(cursor, model._meta.db_table)
    missing = [index for index in model._meta.indexes if index.name not in present]
    if missing:
        # SQLite sorts an index build in memory up to the page cache size: keep the two together
        # inside the import's memory budget.
        with page_cache(INDEX_BUILD_CACHE_KIB), connection.schema_editor() as editor:
            for index in missing:
                editor.add_index(model, index)
    return [index.name for index in missing]


@contextmanager
def indexes_deferred(*models_: type[models.Model]):
    """Fill empty tables without their secondary indexes, then build each index once.

    Keeping an index on random values (names, phone numbers) up to date row by row made a
    million-row insert four times slower than building it in one sorted pass afterwards (the
    usual bulk-load practice). Only `Meta.indexes` are dropped: primary keys, unique fields and
    foreign keys, which the import itself looks rows up by, stay, and so does a `Meta` index on
    a unique field (on MongoDB it is that lookup's only usable index: without it each batch's
    UHID check scanned the collection, and an import grew quadratic). Each index is dropped and
    built by Django's schema editor in its own transaction; if the process is killed in between,
    `restore_indexes` (run first here, and at the start of every import) builds what is missing.

    A table that holds rows keeps its indexes (an incremental run changes few rows), and so does
    any table inside an open transaction, where SQLite's schema editor cannot run.
    """
    if connection.in_atomic_block:
        yield
        return
    empty = []
    for model in models_:
        restore_indexes(model)
        if not model.objects.exists():
            _drop_indexes(model)
            empty.append(model)
    try:
        yield
    finally:
        for model in empty:
            restore_indexes(model)


def _drop_indexes(model: type[models.Model]) -> None:
    unique = {field.name for field in model._meta.fields if field.unique}
    with connection.schema_editor() as editor:
        for index in model._meta.indexes:
            if not set(index.fields) <= unique:
                editor.remove_index(model, index)


def pks_by_pairs(model: type[models.Model], attnames: tuple[str, str], pairs: Iterable) -> dict:
    """`{(a, b): pk}` for rows whose two fields equal one of `pairs` (e.g. (day, token))."""
    pairs = list(set(pairs))
    if not pairs:
        return {}
    (ca, a_db), (cb, b_db) = _converters(model, list(attnames))
    pk_col = model._meta.pk.column
    by_db = {(a_db(a), b_db(b)): (a, b) for a, b in pairs}
    found = {}
    if is_mongodb():
        coll = connection.database[model._meta.db_table]
        keys = list(by_db)
        for start in range(0, len(keys), 1000):
            query = {"$or": [{ca: a, cb: b} for a, b in keys[start : start + 1000]]}
            projection = {"_id": 0, ca: 1, cb: 1, pk_col: 1}
            for doc in coll.find(query, projection, session=connection.session):
                found[by_db[(doc[ca], doc[cb])]] = doc[pk_col]
        return found
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    keys = list(by_db)
    for start in range(0, len(keys), _READ_CHUNK // 2):
        chunk = keys[start : start + _READ_CHUNK // 2]
        sql = (
            f'SELECT ifnull("{ca}", NULL), ifnull("{cb}", NULL), ifnull("{pk_col}", NULL) '
            f'FROM "{model._meta.db_table}" WHERE ("{ca}", "{cb}") IN '
            f"(VALUES {','.join(['(?, ?)'] * len(chunk))})"
        )
        params = [value for pair in chunk for value in pair]
        found.update((by_db[(a, b)], pk) for a, b, pk in cursor.execute(sql, params))
    return found


def pks_by(model: type[models.Model], attname: str, values: Iterable) -> dict:
    """`{value: pk}` for rows whose `attname` is one of `values` (e.g. patients by UHID)."""
    values = [v for v in values if v is not None]
    if not values:
        return {}
    column = _columns(model, connection.vendor)[attname].column
    ((_, to_db),) = _converters(model, [attname])
    by_db = {to_db(v): v for v in values}
    rows = _read_where_in(model, column, list(by_db), [column])
    return {by_db[value]: pk for pk, value in rows}


def _from_db(f: models.Field) -> Callable:
    """The field's database converters as one function (identity when there are none)."""
    col = f.cached_col
    converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
    if not converters:
        return _identity

    def read(value):
        for converter in converters:
            value = converter(value, col, connection)
        return value

    return read
