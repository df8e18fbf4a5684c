"""Write the database back as legacy JSON files (see legacy/export.py for the shapes).

An operator command like migrate_json: it runs with the database's own rights, no role check.
"""

from django.core.management.base import BaseCommand, CommandError

from legacy.export import export_all
from legacy.kinds import NAMES as ORDER
from legacy.opd_export import export_opd


class Command(BaseCommand):
    help = "Export patients, queue, notes, history and episodes in the legacy JSON formats."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="where to write patients.json, queue.json, …")
        parser.add_argument("--only", help=f"comma-separated subset of {','.join(ORDER)}")
        parser.add_argument(
            "--episodes-array",
            action="store_true",
            help="episodes.json as one JSON array (mongoexport --jsonArray), not JSON lines",
        )
        parser.add_argument(
            "--uploads", help="also write every document's file to this folder (legacy names)"
        )

    def handle(self, *args, **options):
        kinds = options["only"].split(",") if options["only"] else list(ORDER)
        if set(kinds) - set(ORDER):
            raise CommandError(f"--only accepts {', '.join(ORDER)}")
        try:
            written = export_all(
                options["directory"],
                [k for k in ORDER if k in kinds],
                episodes_array=options["episodes_array"],
            )
            if not options["only"]:  # documents, batches, timelines (legacy/opd_export.py)
                written |= export_opd(options["directory"], uploads=options["uploads"])
        except OSError as exc:
            raise CommandError(f"Cannot write to {options['directory']}: {exc}") from exc
        if options["verbosity"] >= 1:
            for kind, count in written.items():
                noun = (
                    f"{kind}: {count} copied"
                    if kind == "files"
                    else f"{kind}.json: {count} records"
                )
                self.stdout.write(noun)
