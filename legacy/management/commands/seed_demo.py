"""`manage.py seed_demo`: demo logins and demo data (legacy.demo); safe to run again."""

from django.core.management.base import BaseCommand, CommandError

from clinic.deploy import demo_logins_allowed
from legacy.demo import DEMO_PASSWORD, DEMO_USERS, demo_logins_ensure, load_demo_data


class Command(BaseCommand):
    help = (
        "Create the role groups, one demo login per role, and demo data: 30 patients with "
        "notes and history, today's queue, 3 colorectal cancer episodes. Re-running adds "
        "only what is missing (and today's queue on a new day)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-data", action="store_true", help="Only the role groups and demo logins."
        )

    def handle(self, *args, **options):
        if not demo_logins_allowed():
            raise CommandError(
                "This is a production configuration (DEBUG off, a public host name or HTTPS "
                "redirect): demo logins share a published password, so none were created. Run "
                "with SEED_DEMO=0, or set SEED_DEMO_ON_PRODUCTION=1 if you really mean it."
            )
        demo_logins_ensure()
        if not options["no_data"]:
            created = load_demo_data()
            if options["verbosity"]:
                summary = ", ".join(f"{count} {name}" for name, count in created.items())
                self.stdout.write(f"Demo data in place (created now: {summary}).")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for each: {DEMO_PASSWORD}):"))
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {role or 'superuser'}")
