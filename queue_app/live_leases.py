"""The per-user cap on open live-update streams, held across server processes by lease rows."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from queue_app.models import LiveStreamLease

LEASE_SECONDS = 60  # renewed every 20 s while the stream is open; a dead process's rows lapse


def streams_per_user() -> int:
    return int(getattr(settings, "QUEUE_STREAMS_PER_USER", 5))


def acquire(user_key: str) -> str | None:
    """A lease for one more stream of the user, or None when the user already holds the cap.

    Insert first, then count: two streams opened at once can both be refused, never both let
    past the cap."""
    now = timezone.now()
    lease = LiveStreamLease.objects.create(
        id=secrets.token_hex(12),
        user_key=user_key,
        opened_at=now,
        expires_at=now + timedelta(seconds=LEASE_SECONDS),
    )
    held = LiveStreamLease.objects.filter(user_key=user_key, expires_at__gt=now).order_by(
        "opened_at", "id"
    )
    if lease.pk not in list(held.values_list("id", flat=True)[: streams_per_user()]):
        release([lease.pk])
        return None
    return lease.pk


def release(lease_ids: list[str]) -> None:
    LiveStreamLease.objects.filter(pk__in=lease_ids).delete()


def renew(lease_ids: list[str]) -> None:
    """Keep this process's open streams counted (one update for all of them)."""
    expires = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    LiveStreamLease.objects.filter(pk__in=lease_ids).update(expires_at=expires)
    LiveStreamLease.objects.filter(expires_at__lt=timezone.now() - timedelta(hours=1)).delete()
