"""Demo logins (one per role) for a fresh installation; safe to run again."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from clinic.permissions import DOCTOR, NURSE, RECORDS, sync_roles

DEMO_USERS = [("admin", None), ("nurse", NURSE), ("doctor", DOCTOR), ("records", RECORDS)]
DEMO_PASSWORD = "clinic-demo"


class Command(BaseCommand):
    help = "Create the role groups, one demo login per role and demo patients."

    def handle(self, *args, **options):
        sync_roles()
        users = get_user_model().objects
        for username, role in DEMO_USERS:
            user = users.filter(username=username).first()
            if user is None:
                maker = users.create_superuser if role is None else users.create_user
                user = maker(username=username, password=DEMO_PASSWORD, is_staff=True)
            if role:
                user.groups.add(Group.objects.get(name=role))
        self.stdout.write(self.style.SUCCESS("Demo logins (password for each: clinic-demo):"))
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {role or 'superuser'}")
