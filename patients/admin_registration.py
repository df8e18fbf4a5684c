"""The patient admin's registration side: the form (date of birth or age, phone, duplicates),
the picker's labels, and the merge actions."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from patients import merge, phones, services
from patients.duplicates import patient_duplicates
from patients.models import Patient

REGISTRATION_FIELDS = [
    "name",
    "uhid",
    "date_of_birth",
    "age",
    "gender",
    "phone",
    "nhs_number",
]


def patient_label(patient: Patient) -> str:
    """What tells two namesakes apart: name, age/sex, UHID and phone."""
    age = patient.current_age
    age_sex = f"{'' if age is None else age}{'~' if patient.date_of_birth_estimated else ''}"
    age_sex = f"{age_sex}{patient.gender}".strip() or "age ?"
    parts = [patient.name, age_sex, f"UHID {patient.uhid}" if patient.uhid else patient.pk]
    if patient.phone:
        parts.append(phones.display(patient.phone))
    return " · ".join(parts)


def _candidate_links(candidates: list[Patient]):
    return format_html_join(
        "",
        '<li><a href="{}" target="_blank">{}</a></li>',
        (
            (reverse("admin:patients_patient_change", args=[quote(p.pk)]), patient_label(p))
            for p in candidates
        ),
    )


class PatientForm(forms.ModelForm):
    """Date of birth, or an age when it is not known (stored as an estimated date of birth);
    the phone in any format (stored in E.164); a warning before a likely duplicate is saved."""

    age = forms.IntegerField(
        min_value=0,
        max_value=130,
        required=False,
        help_text="Only when the date of birth is not known: stored as an estimated date.",
    )
    confirm_new = forms.BooleanField(
        required=False,
        label="Register as a new patient",
        help_text="Tick after checking that none of the patients listed is this person.",
    )

    class Meta:
        model = Patient
        fields = ["name", "uhid", "date_of_birth", "gender", "phone", "nhs_number"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        patient = self.instance
        if patient.pk and not patient._state.adding:
            self.initial.setdefault("age", patient.current_age)
            self.initial["phone"] = phones.display(patient.phone)
            if patient.date_of_birth_estimated:
                self.initial["date_of_birth"] = None  # shown as the age it came from
        self.duplicates: list[Patient] = []

    def clean_phone(self):
        phone = self.cleaned_data.get("phone", "")
        if phone and phone == self.instance.phone and not self.instance._state.adding:
            return phone  # a legacy number nobody has corrected yet: kept as it was written
        try:
            return phones.normalise(phone)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None

    def clean(self):
        cleaned = super().clean()
        dob, age = cleaned.get("date_of_birth"), cleaned.get("age")
        patient = self.instance
        if dob is None and age is not None and patient.date_of_birth and age == patient.current_age:
            dob = patient.date_of_birth  # unchanged age: keep the stored (estimated) date
            estimated = patient.date_of_birth_estimated
        else:
            estimated = dob is None
        birth = services.birth_fields(date_of_birth=dob, age=age, estimated=estimated)
        for name, value in birth.items():
            setattr(patient, name, value)
        cleaned["date_of_birth"] = birth["date_of_birth"]
        if patient._state.adding and not self.errors:
            self._check_duplicates(cleaned)
        return cleaned

    def _check_duplicates(self, cleaned):
        self.duplicates = patient_duplicates(
            name=cleaned.get("name", ""),
            phone=cleaned.get("phone", ""),
            uhid=cleaned.get("uhid"),
            nhs_number=cleaned.get("nhs_number"),
            date_of_birth=cleaned.get("date_of_birth"),
        )
        if self.duplicates and not cleaned.get("confirm_new"):
            raise ValidationError(
                format_html(
                    "These registered patients look like this one (same phone, UHID or NHS "
                    "number, or a similar name born within a year). Open them to check; if none "
                    "is this person, tick “Register as a new patient” and save again."
                    "<ul>{}</ul>",
                    _candidate_links(self.duplicates),
                ),
                code="likely_duplicate",
            )


class PatientAutocompleteView(AutocompleteJsonView):
    """The picker shows name, age/sex, UHID and phone, and offers only records not merged away."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.model_admin.model is Patient:
            queryset = queryset.filter(merged_into__isnull=True)
        return queryset

    def serialize_result(self, obj, to_field_name):
        if isinstance(obj, Patient):
            return {"id": str(getattr(obj, to_field_name)), "text": patient_label(obj)}
        return super().serialize_result(obj, to_field_name)


def autocomplete_view(request):
    return PatientAutocompleteView.as_view(admin_site=admin.site)(request)


# The admin site builds its URLs from this attribute once, after every app's admin is loaded.
admin.site.autocomplete_view = autocomplete_view


@admin.action(description="Merge selected duplicates into the one registered first",
              permissions=["merge"])  # fmt: skip
def merge_selected(modeladmin, request, queryset):
    chosen = sorted(queryset.filter(merged_into__isnull=True), key=lambda p: (p.created_at, p.pk))
    if len(chosen) < 2:
        modeladmin.message_user(
            request, "Select two or more records of the same person.", messages.WARNING
        )
        return
    kept, done = chosen[0], 0
    for duplicate in chosen[1:]:
        try:
            merge.patient_merge(kept=kept, merged=duplicate, by=request.user.get_username())
            done += 1
        except ValidationError as exc:
            modeladmin.message_user(request, f"{duplicate}: {exc.messages[0]}", messages.ERROR)
    modeladmin.message_user(
        request,
        format_html(
            "Merged {} record(s) into <a href='{}'>{}</a>; their notes, history, visits and "
            "episodes are now there. “Undo merge” on a merged record restores it.",
            done,
            reverse("admin:patients_patient_change", args=[quote(kept.pk)]),
            kept,
        ),
        messages.SUCCESS,
    )


@admin.action(description="Undo merge of selected records", permissions=["merge"])
def unmerge_selected(modeladmin, request, queryset):
    done = 0
    for patient in queryset.filter(merged_into__isnull=False):
        merge.patient_unmerge(merged=patient, by=request.user.get_username())
        done += 1
    modeladmin.message_user(request, f"Restored {done} merged record(s).", messages.SUCCESS)
