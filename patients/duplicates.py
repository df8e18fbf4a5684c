"""Likely duplicates of a registration: same phone, same UHID or NHS number, or a similar name
born within a year of the same date."""

from datetime import date, timedelta
from difflib import SequenceMatcher

from django.db.models import Q

from patients.models import Patient, PatientSearchTerm
from patients.search_terms import fold, name_words

LIMIT = 20
SIMILAR = 0.8
NAME_CAP = 5000


def _holding(terms: list[str], cap: int = LIMIT) -> set[str]:
    found = PatientSearchTerm.objects.filter(term__in=terms).values_list("patient_id", flat=True)
    return set(found[:cap])


def similar_names(a: str, b: str) -> bool:
    """Same words in any order, or spellings close enough to be one name typed twice."""
    words_a, words_b = sorted(name_words(a)), sorted(name_words(b))
    if words_a == words_b:
        return True
    return SequenceMatcher(None, " ".join(words_a), " ".join(words_b)).ratio() >= SIMILAR or (
        SequenceMatcher(None, fold(a), fold(b)).ratio() >= SIMILAR
    )


def patient_duplicates(
    *,
    name: str = "",
    phone: str = "",
    uhid: str | None = None,
    nhs_number: str | None = None,
    date_of_birth: date | None = None,
    exclude: str | None = None,
    **_ignored,
) -> list[Patient]:
    """Registered patients (not merged away) who are likely the same person, most certain first."""
    live = Patient.objects.filter(merged_into__isnull=True).exclude(pk=exclude or "")
    same_id = Q(pk__in=[])
    if phone:  # through the terms: legacy numbers are stored as they were typed
        same_id |= Q(pk__in=_holding([phone]))
    if uhid:
        same_id |= Q(uhid=uhid)
    if nhs_number:
        same_id |= Q(nhs_number=nhs_number)
    found = {p.pk: p for p in live.filter(same_id).order_by("name", "id")[:LIMIT]}
    words = name_words(name)
    if date_of_birth and words:
        year = timedelta(days=366)
        # Patients sharing a word of the name (a word shared by very many stands aside for the
        # whole name), then born within a year: two index reads, no subquery.
        sharing_a_word = set()
        for term in [*words, " ".join(words)]:
            ids = _holding([term], cap=NAME_CAP + 1)
            if len(ids) <= NAME_CAP:
                sharing_a_word |= ids
        nearby = live.filter(
            date_of_birth__gte=date_of_birth - year,
            date_of_birth__lte=date_of_birth + year,
            pk__in=sharing_a_word,
        ).order_by("name", "id")[: LIMIT * 5]
        for patient in nearby:
            if patient.pk not in found and similar_names(name, patient.name):
                found[patient.pk] = patient
    return list(found.values())[:LIMIT]
