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

from django.db import IntegrityError

from clinic.db import atomic
from legacy import bulk
from legacy.fingerprint import SeenIds
from legacy.normalise import queue_entry
from legacy.readers import read_items
from queue_app.models import DailyTokenCounter, QueueEntry


def prepare_counters(imp, path: str) -> None:
    """Raise each day's counter to the highest token the file holds for it, before the main pass.

    Only entries that will be imported count: a copy of a queue_id seen earlier in the file, or
    an entry whose patient is unknown, takes no token."""
    day_max: dict[datetime.date, int] = {}
    with SeenIds() as seen:
        batch: list[dict] = []
        for item in read_items(path, "queue"):
            if item.record is None:
                continue
            try:
                row = queue_entry(item.record, item.key)
            except Exception:  # noqa: BLE001 - the main pass reports it; here it only takes no token
                continue
            batch.append(row)
            if len(batch) >= 5000:
                _count_tokens(imp, batch, seen, day_max)
                batch = []
        _count_tokens(imp, batch, seen, day_max)
    raise_counters(day_max, imp.dry and imp.dry["counters"])


def _count_tokens(imp, rows: list[dict], seen: SeenIds, day_max: dict) -> None:
    known = imp.known_patients({row["patient_id"] for row in rows})
    rows = [row for row in rows if row["patient_id"] in known]
    firsts: dict[str, dict] = {}
    for row in rows:
        firsts.setdefault(row["id"], row)
    earlier = seen.first_copies([(pk, "") for pk in firsts])
    for pk, row in firsts.items():
        if pk not in earlier and row["token_number"] > day_max.get(row["day"], 0):
            day_max[row["day"]] = row["token_number"]


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


def assign_tokens(rows: list[dict], dry: dict | None):
    """Settle token collisions in place; return [(row, (day, token asked for), what was done)].

    Call inside the batch's transaction: a renumbering and the entry it gives the token to
    commit together (after a crash, neither or both exist). `dry`: a dry run's overlay."""
    dry_claims, dry_counters = (dry["claims"], dry["counters"]) if dry else (None, None)
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
