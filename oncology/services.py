"""Oncology's own writes, called by the API and the admin (the legacy split lives in legacy/)."""

from __future__ import annotations

from django.utils import timezone

from clinic import ids
from clinic.db import create_with_new_id
from oncology.models import Episode, Treatment, Tumour


def episode_create(**fields) -> Episode:
    """A new episode under a fresh ObjectId-shaped ID, stamped created and modified now."""
    now = timezone.now()
    return create_with_new_id(
        Episode, ids.new_episode_id, created_at=now, last_modified_at=now, **fields
    )


def episode_touch(episode: Episode) -> None:
    """Stamps an edit made in clinic; the caller saves."""
    episode.last_modified_at = timezone.now()


def treatment_create(**fields) -> Treatment:
    return create_with_new_id(Treatment, ids.new_treatment_id, **fields)


def tumour_create(**fields) -> Tumour:
    return create_with_new_id(Tumour, ids.new_tumour_id, **fields)
