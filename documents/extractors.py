"""Extractors read a document into data for review: `f(document) -> dict | None`.

`DOCUMENT_EXTRACTOR` names the one in use. Its dict may hold `medications` (list of
{name, dosage, frequency, duration}), `diagnoses` (list of text), `lab_values` (list of
{test, value, unit}), `visit_date` (YYYY-MM-DD) and `doctor`; staff confirm it on the review page.
"""


def extract_nothing(document) -> None:
    """The default: read nothing, and leave the document for staff to transcribe."""
    return None
