"""`manage.py split_embedded`: move episodes' embedded treatments/tumours into records, or back.

Exit codes: 0 done (every episode handled); 1 some episodes could not be converted and were
left exactly as they were (listed; nothing lost); 2 cancelled at the prompt or bad arguments;
3 validation found a mismatch: each batch is checked inside its own transaction, and a batch
that fails is rolled back whole and stops the run (it changed nothing; see the report).
"""

import json
import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from legacy.split import (
    MIN_EPISODES_PER_WORKER,
    BatchCheckFailed,
    SplitOutcome,
    embedded_state,
    episodes_split_all,
)


class Command(BaseCommand):
    help = (
        "Move the embedded treatments[]/tumours[] of every episode into Treatment and Tumour "
        "records (or, with --reverse, back into the arrays exactly as they were)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reverse", action="store_true", help="Put records back.")
        parser.add_argument("--dry-run", action="store_true", help="Report only; write nothing.")
        parser.add_argument("--no-input", action="store_false", dest="interactive")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--workers",
            type=int,
            default=min(os.cpu_count() or 1, 4),
            help="Processes that split at once (default: one per CPU, up to 4). Fewer are used "
            f"when there are under {MIN_EPISODES_PER_WORKER} episodes per process.",
        )
        parser.add_argument("--report", type=Path, help="Write the summary as JSON to this file.")

    def handle(self, *args, reverse, dry_run, interactive, batch_size, workers, report, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.", returncode=2)
        if workers < 1:
            raise CommandError("--workers must be at least 1.", returncode=2)
        self.verbosity = options["verbosity"]
        mode = "reverse" if reverse else "split"
        before = embedded_state()
        self._say(self._plan(mode, before, dry_run))
        if not dry_run and interactive:
            answer = input("Type 'yes' to continue: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Cancelled; nothing was changed.", returncode=2)
        started, clock = timezone.now(), time.monotonic()
        try:
            out = episodes_split_all(
                reverse=reverse,
                batch_size=batch_size,
                dry_run=dry_run,
                on_batch=self._progress(before["episodes"]),
                workers=workers,
            )
        except BatchCheckFailed as exc:
            after = embedded_state()
            if report:
                report.write_text(
                    json.dumps(
                        {"command": "split_embedded", "mode": mode, "exit_code": 3,
                         "validation": {"ok": False, "problems": [str(exc)]},
                         "before": before, "after": after},
                        indent=2,
                    )
                    + "\n"
                )  # fmt: skip
            raise CommandError(
                f"Validation failed: {exc}. That batch changed nothing; the batches before it "
                "were each checked and kept. Re-run to continue.",
                returncode=3,
            ) from exc
        duration = time.monotonic() - clock
        after = embedded_state()
        problems = _validate(mode, dry_run, before, after, out)
        summary = _summary(mode, dry_run, batch_size, started, duration, before, after, out)
        summary["validation"] = {"ok": not problems, "problems": problems}
        code = 3 if problems else 1 if out.error_count else 0
        summary["exit_code"] = code
        if report:
            report.write_text(json.dumps(summary, indent=2, default=str) + "\n")
        self._print_summary(summary, out)
        if problems:
            raise CommandError("Validation failed: " + "; ".join(problems), returncode=3)
        if out.error_count:
            raise CommandError(
                f"{out.error_count} episode(s) could not be converted and were left as they "
                "were; see the errors above.",
                returncode=1,
            )

    def _say(self, text: str, level: int = 1) -> None:
        if self.verbosity >= level:
            self.stdout.write(text)

    def _plan(self, mode: str, before: dict, dry_run: bool) -> str:
        what = (
            "put records back into embedded arrays"
            if mode == "reverse"
            else ("move embedded items into treatment and tumour records")
        )
        return (
            f"{'Dry run: would ' if dry_run else 'About to '}{what}.\n"
            f"  episodes: {before['episodes']}, holding embedded items: "
            f"{before['episodes_holding_items']}, treatment records: "
            f"{before['treatment_records']}, tumour records: {before['tumour_records']}"
        )

    def _progress(self, total: int):
        tty = self.verbosity >= 1 and getattr(self.stdout._out, "isatty", lambda: False)()

        def report(out: SplitOutcome) -> None:
            if self.verbosity >= 2:
                self.stdout.write(f"batch committed: {out.episodes_seen} episodes seen")
            elif tty:
                share = out.episodes_seen / total if total else 1
                bar = "#" * int(share * 30)
                self.stdout.write(f"\r[{bar:<30}] {out.episodes_seen}/{total}", ending="")
                self.stdout.flush()

        return report

    def _print_summary(self, s: dict, out: SplitOutcome) -> None:
        if self.verbosity < 1:
            return
        if getattr(self.stdout._out, "isatty", lambda: False)() and self.verbosity == 1:
            self.stdout.write("")
        style = self.style.SUCCESS if s["exit_code"] == 0 else self.style.WARNING
        self.stdout.write(
            style(
                f"{s['mode']}{' (dry run)' if s['dry_run'] else ''}: "
                f"{s['episodes_changed']} of {s['episodes_seen']} episodes changed in "
                f"{s['duration_s']} s ({s['rate_episodes_per_s']} episodes/s)"
            )
        )
        for key in ["embedded_items_before", "items_moved", "before", "after", "warnings"]:
            self.stdout.write(f"  {key}: {json.dumps(s[key])}")
        if self.verbosity >= 2:
            for example in out.warning_examples:
                self.stdout.write(f"  warning: {example}")
        for error in out.errors:
            self.stderr.write(f"  episode {error['episode']}: {error['message']}")


def _validate(mode: str, dry_run: bool, before: dict, after: dict, out: SplitOutcome) -> list:
    if dry_run:
        return [] if after == before else ["a dry run changed the database"]
    problems = []
    records_before = before["treatment_records"] + before["tumour_records"]
    records_after = after["treatment_records"] + after["tumour_records"]
    moved = sum(out.items_moved.values())
    expected = records_before + moved if mode == "split" else records_before - moved
    if records_after != expected:
        problems.append(f"expected {expected} records after the run, found {records_after}")
    if mode == "split":
        stuck = {e["episode"] for e in out.errors}
        if after["episodes_holding_items"] > len(stuck):
            problems.append(
                f"{after['episodes_holding_items']} episodes still hold embedded items; "
                f"only {len(stuck)} had errors"
            )
    return problems


def _summary(mode, dry_run, batch_size, started, duration, before, after, out) -> dict:
    return {
        "command": "split_embedded",
        "mode": mode,
        "dry_run": dry_run,
        "batch_size": batch_size,
        "started_at": started.isoformat(),
        "duration_s": round(duration, 3),
        "rate_episodes_per_s": round(out.episodes_seen / duration) if duration else None,
        "before": before,
        "after": after,
        "episodes_seen": out.episodes_seen,
        "episodes_changed": out.episodes_changed,
        "legacy_documents_adopted": out.adopted,
        "items_moved": dict(out.items_moved),
        "embedded_items_before": dict(out.items_seen) if mode == "split" else None,
        "warnings": dict(out.warnings),
        "warning_examples": out.warning_examples,
        "error_count": out.error_count,
        "errors": out.errors,
    }
