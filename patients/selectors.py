"""Reads of patients that need more than a filter()."""

import re

from django.db.models import Q, QuerySet

from patients.models import Patient


def _digits_pattern(digits: str) -> str:
    # Staff type phones as "+919876543210", "98765 43210" or "098765-43210": match the digits
    # in order whatever separators sit between them.
    return r"\D*".join(digits)


def patient_search(patients: QuerySet[Patient], term: str) -> QuerySet[Patient]:
    """Patients whose name contains `term`, or whose ID, UHID or phone number matches it."""
    term = term.strip()
    if not term:
        return patients
    match = Q(name__icontains=term) | Q(pk=term)
    digits = re.sub(r"\D", "", term)
    if digits and not re.search(r"[^\d\s+\-()]", term):
        match |= Q(uhid=digits)
        if len(digits) >= 4:
            match |= Q(phone__regex=_digits_pattern(digits))
    return patients.filter(match)
