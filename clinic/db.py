"""Portable database helpers: one way to open a transaction and create a record with a new ID."""

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, connection, models, transaction

M = TypeVar("M", bound=models.Model)


def is_mongodb() -> bool:
    return connection.vendor == "mongodb"


def atomic():
    """Django's `transaction.atomic` on SQL databases, the MongoDB backend's own on MongoDB."""
    if is_mongodb():
        from django_mongodb_backend import transaction as mongo_transaction

        return mongo_transaction.atomic()
    return transaction.atomic()


def create_with_new_id(
    model: type[M], make_id: Callable[[], str], attempts: int = 5, **fields
) -> M:
    """Insert a record under a fresh random ID, drawing again on the (rare) collision."""
    for attempt in range(attempts):
        obj = model(pk=make_id(), **fields)
        try:
            with atomic():
                obj.save(force_insert=True)
            return obj
        except IntegrityError:
            id_taken = model.objects.filter(pk=obj.pk).exists()
            if not id_taken or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
