"""Oncology reads."""

from django.db.models import Q

from oncology.models import Episode


def episode_get(*, ref: str) -> Episode:
    """The episode an item or a user names: by its ID (the ObjectId hex) or its legacy
    `episode_id` string (`EPI-…`), as the oncology system's items reference either."""
    matches = list(Episode.objects.filter(Q(pk=ref) | Q(legacy_episode_id=ref)).order_by("id")[:2])
    if not matches:
        raise Episode.DoesNotExist(f"No episode {ref}")
    exact = [e for e in matches if e.pk == ref]
    return exact[0] if exact else matches[0]
