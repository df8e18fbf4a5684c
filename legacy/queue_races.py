"""The old backend's queue races: a (day, token) used twice, and a queue_id written twice.

A token collision is renumbered to the next free token of that day: before the main pass the
day's `DailyTokenCounter` is raised to at least the highest token the file holds for the day,
and each renumbering takes `last_token + 1` in the same transaction as the batch. Renumbered
tokens are therefore above every token of the file (no cascade), a re-run (after a crash, or
on a newer export) keeps the token an earlier import gave, and live enqueues after the import
never collide.
"""

from __future__ import annotations

import datetime
import os

from django.db import IntegrityError

from clinic.db import atomic
from legacy import bulk
from legacy.normalise import Rejected, queue_entry
from legacy.readers import read_items
from queue_app.models import DailyTokenCounter, QueueEntry


class SeenFilter:
    """A Bloom filter: `add()` says whether a key was (probably) added before, in a few MB.

    It lives for one scan in one process, so Python's own (per-process salted) 64-bit string
    hash serves: cheap, and cached on the string. Its low bits and its high bits make the two
    hashes of four probes (double hashing)."""

    def __init__(self, expected: int):
        bits = max(1 << 23, expected * 12).bit_length()  # a power of two, ≥ 12 bits a key
        self.mask = (1 << bits) - 1
        self.bits = bytearray((1 << bits) // 8)

    def add(self, key: str) -> bool:
        h1 = hash(key)
        h2 = (h1 >> 32) | 1
        bits, mask, seen = self.bits, self.mask, True
        for probe in (h1, h1 + h2, h1 + 2 * h2, h1 + 3 * h2):
            probe &= mask
            byte, bit = probe >> 3, 1 << (probe & 7)
            if not bits[byte] & bit:
                seen = False
                bits[byte] |= bit
        return seen


def prescan(path: str) -> tuple[dict[datetime.date, int], set[str]]:
    """Highest token per day, and the queue_ids that may occur more than once (a superset)."""
    day_max: dict[datetime.date, int] = {}
    maybe_repeated: set[str] = set()
    seen = SeenFilter(os.path.getsize(path) // 150)
    for item in read_items(path, "queue"):
        if item.record is None:
            continue
        try:
            row = queue_entry(item.record, item.key)
        except Rejected:
            continue
        if row["token_number"] > day_max.get(row["day"], 0):
            day_max[row["day"]] = row["token_number"]
        if seen.add(row["id"]):
            maybe_repeated.add(row["id"])
    return day_max, maybe_repeated


def counters(days, overlay: dict | None = None) -> dict[datetime.date, int]:
    stored = bulk.stored_values(DailyTokenCounter, days, ["last_token"])
    found = {day: values["last_token"] for day, values in stored.items()}
    return found | (overlay or {})


def raise_counters(day_max: dict, dry_overlay: dict | None) -> None:
    """Keep each day's counter at or above the file's highest token (live enqueues rely on it)."""
    current = counters(list(day_max), dry_overlay)
    raised = {day: top for day, top in day_max.items() if top > current.get(day, 0)}
    if dry_overlay is not None:
        dry_overlay.update(raised)
        return
    for day in sorted(set(raised) - set(current)):
        try:
            with atomic():
                DailyTokenCounter.objects.create(day=day, last_token=0)
        except IntegrityError:
            pass  # a live desk created it meanwhile; the conditional update below still applies
    for day, top in sorted(raised.items()):
        # Conditional, so a live desk that took a higher token meanwhile keeps it.
        DailyTokenCounter.objects.filter(day=day, last_token__lt=top).update(last_token=top)


def holders(rows: list[dict], dry_claims: dict | None) -> dict:
    """(day, token) → queue_id for the exact pairs these rows ask for (stored, or claimed dry)."""
    pairs = {(row["day"], row["token_number"]) for row in rows}
    found = bulk.pks_by_pairs(QueueEntry, ("day", "token_number"), pairs)
    if dry_claims:
        found.update({pair: dry_claims[pair] for pair in pairs if pair in dry_claims})
    return found


def assign_tokens(rows: list[dict], dry_claims: dict | None, dry_counters: dict | None):
    """Settle token collisions in place; return [(row, (day, token asked for), what was done)].

    Call inside the batch's transaction: a renumbering and the entry it gives the token to
    commit together (after a crash, neither or both exist)."""
    stored = bulk.stored_values(QueueEntry, [r["id"] for r in rows], ["day", "token_number"])
    # An entry already stored with the day and token it asks for holds them (a re-run): only
    # the others need to look for a holder.
    placed = {
        row["id"]
        for row in rows
        if (earlier := stored.get(row["id"]))
        and (earlier["day"], earlier["token_number"]) == (row["day"], row["token_number"])
    }
    taken = holders([row for row in rows if row["id"] not in placed], dry_claims)
    taken.update({(r["day"], r["token_number"]): r["id"] for r in rows if r["id"] in placed})
    events = []
    for row in rows:
        key = (row["day"], row["token_number"])
        holder = taken.get(key)
        if holder is None or holder == row["id"]:
            taken[key] = row["id"]
            continue
        earlier = stored.get(row["id"])
        if earlier and earlier["day"] == row["day"]:
            row["token_number"] = earlier["token_number"]
            events.append((row, key, f"kept token {row['token_number']} from an earlier import"))
        else:
            row["token_number"] = next_token(row["day"], dry_counters)
            events.append((row, key, f"renumbered to token {row['token_number']}"))
        taken[(row["day"], row["token_number"])] = row["id"]
    if dry_claims is not None:
        dry_claims.update({(r["day"], r["token_number"]): r["id"] for r in rows})
    return events


def next_token(day: datetime.date, dry_counters: dict | None) -> int:
    """Take the day's next token as a live desk would: a conditional update, retried on a race."""
    if dry_counters is not None:
        dry_counters[day] = counters([day], dry_counters).get(day, 0) + 1
        return dry_counters[day]
    while True:
        last = counters([day]).get(day, 0)
        if DailyTokenCounter.objects.filter(day=day, last_token=last).update(last_token=last + 1):
            return last + 1
