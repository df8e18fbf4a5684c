"""Reads of patients that need more than a filter(); the one owner of patient search."""

from django.db.models import Q, QuerySet

from patients import phones
from patients.models import Patient, PatientSearchTerm
from patients.search_terms import query_words

# Above every character a term can continue with: `term >= w AND term < w + TOP` is a prefix
# match that both SQLite and MongoDB answer from the term index (LIKE and regex cannot).
TOP = "\U0010ffff"
# A search resolves each typed word to patient IDs on the term index, then looks the patients up
# by primary key: no subqueries (MongoDB's are $lookups), the same two index reads everywhere.
# A word found in more than MANY patients ("asha" in a big clinic) is narrowed to MANY of them;
# a second word, or the whole name, narrows it properly.
MANY = 1_000


def _matching(word: str) -> QuerySet:
    return PatientSearchTerm.objects.filter(term__gte=word, term__lt=word + TOP)


def _ids(word: str) -> set[str]:
    # In index order: a word itself ("asha") comes before the names it starts ("asha bose").
    found = _matching(word).order_by("term", "patient_id").values_list("patient_id", flat=True)
    return set(found[:MANY])


def _every_word(words: list[str]) -> set[str]:
    found = [_ids(word) for word in words]
    every = set.intersection(*found)
    if len(words) > 1 and any(len(ids) >= MANY for ids in found):
        # Common words, each cut at MANY: the whole name as typed finds the rest.
        every |= _ids(" ".join(words))
    return every


def patient_search(patients: QuerySet[Patient], term: str) -> QuerySet[Patient]:
    """Patients with every typed word starting a word of their name or a part of their UHID or
    NHS number, or whose patient ID or phone number (typed any way) is the term."""
    term = term.strip()
    if not term:
        return patients
    exact = Q(pk=term) | Q(pk=term.upper())
    e164 = phones.to_e164(term)
    if e164:
        by_phone = PatientSearchTerm.objects.filter(term=e164).values_list("patient_id", flat=True)
        exact |= Q(pk__in=set(by_phone))
    words = query_words(term)
    if not words:
        return patients.filter(exact)
    return patients.filter(exact | Q(pk__in=_every_word(words)))


def patient_resolve(pk: str) -> Patient | None:
    """The patient an ID stands for, following merges to the record kept; None if unknown."""
    seen = set()
    patient = Patient.objects.filter(pk=pk).first()
    while patient is not None and patient.merged_into_id and patient.pk not in seen:
        seen.add(patient.pk)
        patient = Patient.objects.filter(pk=patient.merged_into_id).first()
    return patient
