"""Merging a duplicate patient record into the one kept, and undoing it exactly.

Every row of every model with a foreign key to Patient (notes, history, queue entries, episodes
and their treatments and tumours, documents, whatever app adds one) moves to the kept record;
the merge remembers which rows moved, so `patient_unmerge` moves exactly those back. The merged
record stays, marked `merged_into`, so its ID keeps leading to the kept one.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.db import atomic
from patients.models import Patient, PatientMerge, PatientSearchTerm

# Rows that belong to the record itself, not to the person's care.
NOT_MOVED = {Patient, PatientMerge, PatientSearchTerm}


def _patient_links():
    """(model, field) for every foreign key to Patient outside the patient record's own tables."""
    for rel in Patient._meta.related_objects:
        if rel.related_model in NOT_MOVED or not (rel.one_to_many or rel.one_to_one):
            continue
        yield rel.related_model, rel.field


def patient_merge(*, kept: Patient, merged: Patient, by: str) -> PatientMerge:
    """Move everything recorded for `merged` to `kept`; returns the merge record."""
    if kept.pk == merged.pk:
        raise ValidationError("A patient cannot be merged into their own record.")
    if merged.merged_into_id or kept.merged_into_id:
        raise ValidationError("One of these records has already been merged; unmerge it first.")
    moved: dict[str, dict[str, list[str]]] = {}
    with atomic():
        for model, field in _patient_links():
            rows = model._default_manager.filter(**{field.attname: merged.pk})
            pks = [str(pk) for pk in rows.values_list("pk", flat=True)]
            if pks:
                model._default_manager.filter(pk__in=pks).update(**{field.attname: kept.pk})
                moved.setdefault(model._meta.label_lower, {})[field.attname] = pks
        merge = PatientMerge.objects.create(kept=kept, merged=merged, moved=moved, by=by)
        merged.merged_into = kept
        merged.updated_at = timezone.now()
        merged.save(update_fields=["merged_into", "updated_at"])
    return merge


def patient_unmerge(*, merged: Patient, by: str) -> PatientMerge:
    """Undo the latest merge of `merged`: the rows that moved go back, the record is live again."""
    merge = (
        PatientMerge.objects.filter(merged=merged, undone_at__isnull=True).order_by("-at").first()
    )
    if merge is None or merged.merged_into_id is None:
        raise ValidationError("This record has not been merged into another.")
    models = {model._meta.label_lower: model for model, _ in _patient_links()}
    with atomic():
        for label, fields in merge.moved.items():
            model = models.get(label)
            if model is None:  # the app holding these rows is gone: nothing to move back
                continue
            for attname, pks in fields.items():
                model._default_manager.filter(pk__in=pks, **{attname: merge.kept_id}).update(
                    **{attname: merged.pk}
                )
        merge.undone_by, merge.undone_at = by, timezone.now()
        merge.save(update_fields=["undone_by", "undone_at"])
        merged.merged_into = None
        merged.updated_at = timezone.now()
        merged.save(update_fields=["merged_into", "updated_at"])
    return merge
