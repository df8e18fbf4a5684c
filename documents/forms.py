"""Admin forms: upload several files at once; confirm what a document says."""

from django import forms

from documents.models import Document


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Files",
        help_text="Photos (JPEG, PNG, HEIC) or PDFs; several at once make one batch.",
    )


class MedicationForm(forms.Form):
    name = forms.CharField(max_length=200)
    dosage = forms.CharField(max_length=100, required=False)
    frequency = forms.CharField(max_length=100, required=False)
    duration = forms.CharField(max_length=100, required=False)


class LabValueForm(forms.Form):
    test = forms.CharField(max_length=200)
    value = forms.CharField(max_length=100)
    unit = forms.CharField(max_length=50, required=False)


MedicationFormSet = forms.formset_factory(MedicationForm, extra=3)
LabValueFormSet = forms.formset_factory(LabValueForm, extra=2)


class ReviewForm(forms.Form):
    visit_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    doctor = forms.CharField(max_length=200, required=False)
    diagnoses = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_diagnoses(self):
        return [
            line.strip() for line in self.cleaned_data["diagnoses"].splitlines() if line.strip()
        ]


def review_forms(document: Document, data=None):
    """The review form and its two formsets, filled from what the extractor read."""
    extracted = document.extracted_data if isinstance(document.extracted_data, dict) else {}
    initial = {
        "visit_date": extracted.get("visit_date"),
        "doctor": extracted.get("doctor", ""),
        "diagnoses": "\n".join(map(str, extracted.get("diagnoses", []) or [])),
        "notes": extracted.get("notes", ""),
    }
    meds = [m for m in extracted.get("medications", []) or [] if isinstance(m, dict)]
    labs = [m for m in extracted.get("lab_values", []) or [] if isinstance(m, dict)]
    return (
        ReviewForm(data, initial=initial),
        MedicationFormSet(data, initial=meds or None, prefix="medications"),
        LabValueFormSet(data, initial=labs or None, prefix="labs"),
    )


def review_data(form, medications, labs) -> dict:
    def rows(formset):
        return [
            {k: v for k, v in f.cleaned_data.items() if v}
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]

    return {**form.cleaned_data, "medications": rows(medications), "lab_values": rows(labs)}
