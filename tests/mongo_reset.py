"""MongoDB leg: between tests the database goes back to its state right after `migrate`.

The backend has no rollback between tests, so Django's TransactionTestCase flushes every
table and then sends post_migrate, which re-creates every content type, permission and role
group one query at a time: ~0.75 s of the ~1 s each test's teardown took on the test server,
about half of the whole MongoDB leg. Here the rows migrate left behind are copied once and put
back after each test's collections are emptied; the state a test starts in is the same.
"""

from django.db import connection
from django.test import TransactionTestCase


def install() -> None:
    db = connection.database
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    after_migrate = {table: list(db[table].find()) for table in tables}

    def fixture_teardown(self):
        for table in tables:
            db[table].delete_many({})
            if after_migrate[table]:
                db[table].insert_many(after_migrate[table])

    TransactionTestCase._fixture_teardown = fixture_teardown
