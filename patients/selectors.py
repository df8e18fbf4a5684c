"""Reads of patients that need more than a filter(); the one owner of patient search."""

from django.db.models import Q, QuerySet

from patients import phones
from patients.models import Patient, PatientSearchTerm
from patients.search_terms import query_words

# Above every character a term can continue with: `term >= w AND term < w + TOP` is a prefix
# match that both SQLite and MongoDB answer from the term index (LIKE and regex cannot).
TOP = "\U0010ffff"
# A word matching at most this many patients is resolved to their IDs first, so the search is
# a primary-key lookup; a commoner word stays a subquery the database checks while it pages.
FEW = 500


def _matching(word: str) -> QuerySet:
    return PatientSearchTerm.objects.filter(term__gte=word, term__lt=word + TOP)


def _word_match(word: str) -> Q:
    ids = list(_matching(word).values_list("patient_id", flat=True)[: FEW + 1])
    if len(ids) <= FEW:
        return Q(pk__in=set(ids))
    return Q(pk__in=_matching(word).values("patient_id"))


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
    every = Q()
    for word in words:
        every &= _word_match(word)
    return patients.filter(exact | every)


def patient_resolve(pk: str) -> Patient | None:
    """The patient an ID stands for, following merges to the record kept; None if unknown."""
    seen = set()
    patient = Patient.objects.filter(pk=pk).first()
    while patient is not None and patient.merged_into_id and patient.pk not in seen:
        seen.add(patient.pk)
        patient = Patient.objects.filter(pk=patient.merged_into_id).first()
    return patient
