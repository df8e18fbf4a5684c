"""Portable database helpers: one way to open a transaction and create a record with a new ID."""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, OperationalError, connection, models, transaction

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")


def is_mongodb() -> bool:
    return connection.vendor == "mongodb"


def atomic():
    """Django's `transaction.atomic` on SQL databases, the MongoDB backend's own on MongoDB."""
    if is_mongodb():
        from django_mongodb_backend import transaction as mongo_transaction

        return mongo_transaction.atomic()
    return transaction.atomic()


def is_transient(exc: BaseException) -> bool:
    """A MongoDB write conflict or a busy SQLite file: the whole transaction may be retried."""
    if isinstance(exc, IntegrityError):
        return False
    while exc is not None:
        has_label = getattr(exc, "has_error_label", None)
        if has_label and has_label("TransientTransactionError"):
            return True
        if isinstance(exc, OperationalError) and "locked" in str(exc):
            return True
        exc = exc.__cause__
    return False


def in_transaction(
    work: Callable[[], T], attempts: int = 60, retry: tuple[type[Exception], ...] = ()
) -> T:
    """`work()` inside `atomic()`, run again from the start (after a short random pause) when
    the database says the transaction may be retried or `work` raises one of `retry`."""
    for attempt in range(attempts):
        try:
            with atomic():
                return work()
        except Exception as exc:
            if attempt == attempts - 1 or not (isinstance(exc, retry) or is_transient(exc)):
                raise
            time.sleep(random.uniform(0.002, 0.004 * min(attempt + 1, 25)))
    raise AssertionError("unreachable")


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
