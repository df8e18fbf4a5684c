"""The words a patient is found by, computed the same way when stored and when searched.

A patient's terms are the words of the name (and the whole name), every ending (of 3
characters or more) of the UHID and NHS number with separators removed, and the phone number in
E.164 and as its national digits. A search word matches a term it starts: so "kum" finds Kumar,
"0012" finds MH/2024/0012 and a phone typed any way finds its E.164 form; every lookup is a
range on one index, on SQLite and MongoDB alike.
"""

import re
import unicodedata

from patients import phones

MIN_PART = 3  # shorter parts of an ID match too many patients to be worth an index row
MAX_TERM = 64
WORD = re.compile(r"[^\W_]+")
ID_CHARS = re.compile(r"[^0-9a-z]")


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def name_words(name: str) -> list[str]:
    return [word[:MAX_TERM] for word in WORD.findall(fold(name))]


def id_text(value: str) -> str:
    return ID_CHARS.sub("", fold(value))


def id_endings(value: str) -> set[str]:
    text = id_text(value)[:MAX_TERM]
    return {text[start:] for start in range(len(text) - MIN_PART + 1)} or (
        {text} if text else set()
    )


def patient_terms(*, name: str, uhid: str | None, nhs_number: str | None, phone: str) -> set[str]:
    words = name_words(name)
    terms = set(words) | id_endings(uhid or "") | id_endings(nhs_number or "")
    if len(words) > 1:
        terms.add(" ".join(words)[:MAX_TERM])  # "asha ku" finds Asha Kumar among many Ashas
    terms.update(phones.search_forms(phone) or ())
    return terms


def term_rows(patients) -> list[dict]:
    """The `PatientSearchTerm` rows (by attname) of `(pk, name, uhid, nhs_number, phone)`s."""
    return [
        {"id": f"{pk}:{term}", "patient_id": pk, "term": term}
        for pk, name, uhid, nhs_number, phone in patients
        for term in patient_terms(name=name, uhid=uhid, nhs_number=nhs_number, phone=phone)
    ]


def query_words(term: str) -> list[str]:
    """The typed search as index prefixes: each name word, or an ID without its separators."""
    words = name_words(term)
    joined = id_text(term)
    has_digit = any(ch.isdigit() for ch in joined)
    if len(words) > 1 and has_digit and (not re.search(r"\s", term.strip()) or joined.isdigit()):
        return [joined]  # "MH/2024/0012" or "98765 43210" is one number, not several words
    return words
