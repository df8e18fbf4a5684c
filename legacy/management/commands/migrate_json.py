"""Import a clinic's legacy JSON files (see docs/migrating.md).

Exit codes: 0 every record imported (created, updated or unchanged); 1 some records were
rejected or in conflict (listed in the rejects and conflicts files); 2 the import stopped or
never started: bad arguments, a path that does not exist or cannot be read, or a file that is
not JSON or is cut off (the byte offset is printed; batches before it are kept).
An operator command: it runs with the database's own rights, no role check.
"""

import json
import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from legacy import opd_documents, surgdb
from legacy.importer import MONGODB_BATCH, SQLITE_BATCH, Importer, PathError, find_files
from legacy.kinds import NAMES
from legacy.report import ConflictsFile, RejectsFile


def _usage(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Import legacy patients/queue/notes/history/episodes JSON files (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="a directory of legacy files, or files")
        parser.add_argument("--dry-run", action="store_true", help="write nothing; report")
        parser.add_argument("--only", help=f"comma-separated subset of {','.join(NAMES)}")
        parser.add_argument(
            "--batch-size", type=int,
            help=f"records per transaction (default {SQLITE_BATCH} on SQLite, "
            f"{MONGODB_BATCH} on MongoDB)",
        )  # fmt: skip
        parser.add_argument("--report", help="write the report as JSON to this file")
        parser.add_argument(
            "--rejects",
            help="rejected records as JSON lines (default: next to --report, "
            "else ./migrate_json.rejects.jsonl)",
        )
        parser.add_argument(
            "--conflicts",
            help="records changed both in clinic and in the legacy files, with both versions, "
            "as JSON lines (default: beside the rejects file, .conflicts.jsonl)",
        )
        parser.add_argument(
            "--prefer",
            choices=["clinic", "legacy"],
            default="clinic",
            help="which version a conflict keeps (default: clinic's)",
        )
        parser.add_argument(
            "--legacy-key",
            metavar="KEY_FILE",
            help="the oncology system's field-encryption key file, to read its ENC: values "
            f"(with --legacy-salt; or set {surgdb.KEY_FILE_ENV} and {surgdb.SALT_FILE_ENV})",
        )
        parser.add_argument("--legacy-salt", metavar="SALT_FILE", help="its salt file")
        parser.add_argument(
            "--uploads",
            help="the OPD system's uploads folder: documents' files are copied into storage",
        )

    def handle(self, *args, **options):
        only = set(options["only"].split(",")) if options["only"] else None
        if only and only - set(NAMES):
            raise _usage(f"--only accepts {', '.join(NAMES)}")
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise _usage("--batch-size must be at least 1")
        if options["uploads"] and not os.path.isdir(options["uploads"]):
            raise _usage(f"--uploads {options['uploads']}: no such folder")
        opd = {} if only else opd_documents.find_files(options["paths"])
        try:
            files = find_files([p for p in options["paths"] if p not in opd.values()], only)
        except PathError as exc:
            raise _usage(str(exc)) from exc
        if not files and not opd:
            raise _usage("No legacy files found (expected patients.json, queue.json, …).")
        rejects_path = options["rejects"] or (
            f"{options['report'].removesuffix('.json')}.rejects.jsonl"
            if options["report"]
            else "migrate_json.rejects.jsonl"
        )
        conflicts_path = options["conflicts"] or (
            f"{rejects_path.removesuffix('.jsonl').removesuffix('.rejects')}.conflicts.jsonl"
        )
        self._legacy_key(options["legacy_key"], options["legacy_salt"])
        try:
            rejects, conflicts = RejectsFile(rejects_path), ConflictsFile(conflicts_path)
        except OSError as exc:
            raise _usage(f"Cannot write the rejects or conflicts file: {exc}") from exc
        importer = Importer(
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            rejects=rejects,
            conflicts=conflicts,
            prefer=options["prefer"],
            on_batch=self._progress_printer(options["verbosity"]),
        )
        try:
            report = importer.run(files)
        finally:
            rejects.close()
            conflicts.close()
        self._finish(report, options)
        code = report.exit_code
        # documents, batches, timelines and note audio (legacy/opd_documents.py)
        if (opd or options["uploads"]) and code < 2:
            code = max(code, self._documents(opd, options))
        if code:
            sys.exit(code)

    def _documents(self, opd: dict, options) -> int:
        importer = opd_documents.OpdImporter(uploads=options["uploads"], dry_run=options["dry_run"])
        lines, data, code = opd_documents.import_summary(importer.run(opd))
        if options["verbosity"] >= 1:
            self.stdout.write("\n".join(lines))
        if options["report"]:
            with open(options["report"], encoding="utf-8") as handle:
                full = json.load(handle)
            with open(options["report"], "w", encoding="utf-8") as handle:
                json.dump({**full, "documents": data}, handle, indent=1, default=str)
        return code

    def _legacy_key(self, key_file, salt_file) -> None:
        if bool(key_file) != bool(salt_file):
            raise _usage("--legacy-key and --legacy-salt go together (the two key files).")
        try:
            if key_file:
                surgdb.set_key_files(key_file, salt_file)
            else:
                surgdb.key_from_environment()
        except OSError as exc:
            raise _usage(f"Cannot read the oncology system's key file: {exc}") from exc

    def _progress_printer(self, verbosity: int):
        if verbosity >= 2:

            def detail(fr):
                self.stdout.write(f"{fr.file}: {fr.records} records read")
                self.stdout.flush()

            return detail
        if verbosity < 1 or not self.stdout.isatty():
            return None
        started = time.monotonic()

        def show(fr):
            rate = fr.records / max(time.monotonic() - started, 1e-6)
            self.stdout.write(
                f"\r{fr.file:<16}{fr.records:>12,} records {rate:>10,.0f}/s", ending=""
            )
            self.stdout.flush()

        return show

    def _finish(self, report, options) -> None:
        data = report.as_dict()
        if options["report"]:
            with open(options["report"], "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1, ensure_ascii=False, default=str)
        verbosity = options["verbosity"]
        if verbosity >= 1:
            if self.stdout.isatty():
                self.stdout.write("")
            title = "Dry run: nothing written. " if report.dry_run else ""
            self.stdout.write(report.table())
            self.stdout.write(
                f"{title}{data['records']} records in {data['duration_seconds']}s "
                f"({data['records_per_second'] or 0}/s)."
            )
        if verbosity >= 2:
            for fr in report.files:
                for warning in fr.warnings:
                    self.stdout.write(f"{fr.file} {warning['position']}: {warning['message']}")
        if report.rejected and verbosity >= 1:
            self.stderr.write(
                self.style.WARNING(f"{report.rejected} records rejected; see {report.rejects_file}")
            )
        if report.conflicts and verbosity >= 1:
            self.stderr.write(
                self.style.WARNING(
                    f"{report.conflicts} records changed both here and in the legacy files "
                    f"(clinic's version kept unless --prefer legacy); see {report.conflicts_file}"
                )
            )
        for fr in report.files:
            if fr.error:
                self.stderr.write(self.style.ERROR(f"Stopped: {fr.error['message']}"))
