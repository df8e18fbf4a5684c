"""`manage.py export_cosd --from DATE --to DATE [--validate-only] [--out FILE] [--report FILE]`.

Builds the period's COSD v10 colorectal submission and prints the pre-submission checks.
Without --validate-only and with no blocking error it takes the next submission number,
writes the XML to COSD_EXPORT_DIR (where the admin and API serve it) and, with --out, also
to FILE. --validate-only writes no XML and allocates no number.

Exit codes: 0 done (or, with --validate-only, nothing blocks a submission); 1 errors in the
checks block the submission (nothing written, no number taken); 2 bad arguments.
"""

import json
import shutil
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from oncology.cosd import CosdChecksFailed, cosd_prepare, cosd_submit, submission_path


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"'{value}' is not a date; use YYYY-MM-DD.", returncode=2) from None


class Command(BaseCommand):
    help = "Export the COSD v10 colorectal submission for a reporting period (checks first)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="period_start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="period_end", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--validate-only",
            action="store_true",
            help="Run the checks only; write nothing, allocate no number.",
        )
        parser.add_argument("--out", type=Path, help="Also write the XML file here.")
        parser.add_argument("--report", type=Path, help="Write the checks as JSON to this file.")

    def handle(self, *args, period_start, period_end, validate_only, out, report, **options):
        self.verbosity = options["verbosity"]
        start, end = _date(period_start), _date(period_end)
        if end < start:
            raise CommandError("--to must be on or after --from.", returncode=2)
        submission = None
        try:
            if validate_only:
                export = cosd_prepare(period_start=start, period_end=end)
            else:
                submission, export = cosd_submit(period_start=start, period_end=end)
        except CosdChecksFailed as failed:
            export = failed.export
        checks = export.report
        if report:
            report.write_text(json.dumps(checks.as_dict(), indent=2, default=str) + "\n")
        self._print_checks(checks)
        if checks.errors:
            raise CommandError(
                f"{len(checks.errors)} error(s) block the submission; nothing was written.",
                returncode=1,
            )
        if submission is None:
            self._say(self.style.SUCCESS("No blocking errors: the period can be submitted."))
            return
        path = submission_path(submission)
        if out:
            shutil.copyfile(path, out)
        self._say(
            self.style.SUCCESS(
                f"Submission {submission.number}: {submission.record_count} record(s) written to "
                f"{out or path}."
            )
        )

    def _print_checks(self, checks) -> None:
        self._say(
            f"Records: {checks.record_count}; errors: {len(checks.errors)}; "
            f"warnings: {len(checks.warnings)}"
        )
        for issue in checks.errors:
            self._say(self.style.ERROR(f"  error   {issue.record or '-'}: {issue.message}"))
        if self.verbosity >= 2:
            for issue in checks.warnings:
                self._say(self.style.WARNING(f"  warning {issue.record}: {issue.message}"))
        self._say("Completeness (% of applicable records holding the item):")
        for row in checks.completeness:
            percent = "n/a" if row["percent"] is None else f"{row['percent']:5.1f}%"
            self._say(f"  {row['label']:<36} {percent:>7}  ({row['held']}/{row['applicable']})")

    def _say(self, line: str) -> None:
        if self.verbosity:
            self.stdout.write(line)
