"""Read and normalise a legacy file in batches, in this process or in a forked reader process.

Parsing and normalising cost about as much CPU as writing, so for large files a forked child
does them while this process writes (two cores, close to twice the speed). When this process
finds itself waiting for the child (a re-run, which writes little), it has the child send
batches unnormalised now and then and normalises them itself, so the two share the work.
The child never touches the database; it only reads the file. Batches arrive in file order,
so crash safety and the report are the same either way. A child whose parent died (kill -9)
exits by itself.
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing.reduction import ForkingPickler

from legacy import bulk
from legacy.normalise import NORMALISERS, Rejected
from legacy.readers import Item, ReadError, read_items
from oncology.models import Episode
from patients.models import HistoryEntry, Note, Patient
from queue_app.models import QueueEntry

MODELS = {
    "patients": Patient, "queue": QueueEntry, "notes": Note, "history": HistoryEntry,
    "episodes": Episode,
}  # fmt: skip

# A large file gets the bulk-load treatment: a reader process, and secondary indexes built at
# the end (importer). Below this size both cost more than they save. The variable is for tests.
LARGE_FILE_BYTES = int(os.environ.get("CLINIC_IMPORT_LARGE_FILE_BYTES", 4 << 20))


def is_large(path: str) -> bool:
    return os.path.getsize(path) >= LARGE_FILE_BYTES


def item_batches(path: str, kind: str, size: int) -> Iterator[list[Item]]:
    """The file's items, `size` at a time; a `ReadError` comes after the batch that holds
    everything read before the failure point."""
    batch = []
    try:
        for item in read_items(path, kind):
            batch.append(item)
            if len(batch) >= size:
                yield batch
                batch = []
    except ReadError:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def normalised(items: list[Item], kind: str) -> list[tuple]:
    """`(item, row, None)` or `(item, None, reason)` for each item."""
    normalise, model, out = NORMALISERS[kind], MODELS[kind], []
    for item in items:
        if item.error:
            out.append((item, None, item.error))
            continue
        try:
            # Episodes keep the Extended JSON types they were written with (export gives
            # them back), so their normaliser reads the document as written.
            record = item.original if kind == "episodes" and item.original is not None else None
            row = bulk.db_ready(model, normalise(record or item.record, item.key))
        except Rejected as exc:
            out.append((item, None, str(exc)))
        else:
            out.append((item, row, None))
    return out


def batches(path: str, kind: str, size: int) -> Iterator[list[tuple]]:
    for items in item_batches(path, kind, size):
        yield normalised(items, kind)


def read_batches(path: str, kind: str, size: int) -> Iterator[list[tuple]]:
    if not is_large(path) or sys.platform == "win32":
        return batches(path, kind, size)
    return _from_child(path, kind, size)


class _Records:
    """A batch's records as sent (`_encode`), decoded only if the parent needs one (a reject)."""

    __slots__ = ("decoded", "sent")

    def __init__(self, sent: tuple[bool, object]):
        self.sent, self.decoded = sent, None

    def get(self, which: int, index: int):
        if self.decoded is None:
            self.decoded = _decode(self.sent)
        return self.decoded[which][index]


class LazyItem:
    """An `Item` whose record is decoded on first use: unpickling dicts was the parent's
    largest cost, and the parent needs a batch's records only to write a reject."""

    __slots__ = ("_index", "_records", "error", "key", "position", "raw")

    def __init__(self, position, key, raw, error, records: _Records, index: int):
        self.position, self.key, self.raw, self.error = position, key, raw, error
        self._records, self._index = records, index

    @property
    def record(self):
        return self._records.get(0, self._index)

    @property
    def original(self):
        return self._records.get(1, self._index)


def _pack(batch: list[tuple]) -> tuple:
    items = [item for item, _, _ in batch]
    records = _encode([[i.record for i in items], [i.original for i in items]])
    return (
        [(i.position, i.key, i.raw, i.error) for i in items],
        records,
        [row for _, row, _ in batch],
        [reason for _, _, reason in batch],
    )


def _unpack(packed: tuple) -> list[tuple]:
    heads, sent, rows, reasons = packed
    records = _Records(sent)
    return [
        (LazyItem(*head, records, index), row, reason)
        for index, (head, row, reason) in enumerate(zip(heads, rows, reasons, strict=True))
    ]


def _encode(value) -> tuple[bool, object]:
    # marshal is exact for everything JSON gives (big integers, NaN) and writes a batch faster
    # than pickle (1.5 against 2.0 µs a patient, in the busier process); what it cannot hold
    # (a queue day, datetimes on MongoDB) is pickled.
    try:
        return True, marshal.dumps(value)
    except ValueError:
        return False, value


def _decode(payload: tuple[bool, object]):
    marshalled, value = payload
    return marshal.loads(value) if marshalled else value


def _pack_items(items: list[Item]) -> list[tuple]:
    return [(i.position, i.record, i.key, i.error, i.raw, i.original) for i in items]


def _produce(path: str, kind: str, size: int, reader, writer, help_wanted) -> None:
    # Our copy of the read end is closed, so a dead parent turns the next send into EPIPE.
    reader.close()
    try:
        try:
            for items in item_batches(path, kind, size):
                if help_wanted.value:
                    help_wanted.value = False
                    writer.send(("items", _encode(_pack_items(items))))
                else:
                    writer.send(("batch", _encode(_pack(normalised(items, kind)))))
            writer.send(("done", None))
        except ReadError as exc:
            writer.send(("read_error", (exc.path, exc.offset, exc.reason)))
        except (BrokenPipeError, ConnectionResetError):
            raise
        except BaseException as exc:  # reported to the parent, which raises it
            writer.send(("crash", f"{type(exc).__name__}: {exc}"))
    except (BrokenPipeError, ConnectionResetError):
        os._exit(0)  # the importer was killed: nobody will read the rest


def _should_help(waited: float, cost: float) -> bool:
    return waited >= cost


def _from_child(path: str, kind: str, size: int) -> Iterator[list[tuple]]:
    ctx = multiprocessing.get_context("fork")
    # A plain pipe, not a Queue: sends block while the parent writes (bounded memory) and
    # there is no feeder thread to keep an orphaned child alive.
    reader, writer = ctx.Pipe(duplex=False)
    # Set by this process to have the child send its next batch unnormalised, to normalise it
    # here. A no-change re-run writes little, so this process would wait for the child most
    # of the time; a first import keeps it busy writing.
    help_wanted = ctx.RawValue("b", False)
    child = ctx.Process(
        target=_produce, args=(path, kind, size, reader, writer, help_wanted), daemon=True
    )
    child.start()
    writer.close()
    # Help once this process has waited for the child as long as normalising a batch took it
    # last time: helping then costs only time that would have been spent waiting.
    waited = cost = 0.0
    # A thread takes each batch off the pipe as soon as it is sent, so the child goes on to
    # the next one while this process still writes the last (one batch ahead, not more).
    arrived: queue.Queue = queue.Queue(maxsize=1)
    pump = threading.Thread(target=_pump, args=(reader, arrived), daemon=True)
    pump.start()
    try:
        while True:
            try:
                message = arrived.get_nowait()
            except queue.Empty:
                started = time.perf_counter()
                message = arrived.get()
                waited += time.perf_counter() - started
                if _should_help(waited, cost):
                    help_wanted.value = True
            if message is None:
                raise RuntimeError(f"the reader of {path} stopped unexpectedly")
            what, payload = ForkingPickler.loads(message)
            message = None
            if what == "batch":
                batch = _unpack(_decode(payload))
            elif what == "items":
                started = time.perf_counter()
                batch = normalised([Item(*fields) for fields in _decode(payload)], kind)
                waited, cost = 0.0, time.perf_counter() - started
            elif what == "done":
                return
            elif what == "read_error":
                raise ReadError(*payload)
            else:
                raise RuntimeError(f"the reader of {path} failed: {payload}")
            payload = None  # not held while the caller writes the batch
            yield batch
            batch = None
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        while pump.is_alive():  # it ends at the pipe's end; make room for what it holds
            with contextlib.suppress(queue.Empty):
                arrived.get(timeout=0.1)
        reader.close()


def _pump(reader, arrived: queue.Queue) -> None:
    try:
        while True:
            arrived.put(reader.recv_bytes())
    except (EOFError, OSError):
        arrived.put(None)
