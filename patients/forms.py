"""Clinical entry forms without JSON: SOAP boxes, medication lines, coded diagnoses, lab results.

Keys of `content` the forms do not model are kept as they are (shown read-only in the admin).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from clinic.text import DATE_MAX, DATE_MIN, DATE_RANGE
from patients import clinical
from patients.models import HistoryEntry, Note

SOAP_PARTS = ["subjective", "objective", "assessment", "plan"]
# Also in a SOAP note's content (the OPD system's notes): shown as boxes, not raw data.
NOTE_EXTRAS = ["chief_complaint", "medications"]
NOTE_KEYS = {*SOAP_PARTS, *NOTE_EXTRAS, "text"}
HISTORY_LISTS = {
    "medications": [("drug", "Drug", 22), ("dose", "Dose", 8), ("route", "Route", 8),
                    ("frequency", "Frequency", 8), ("duration", "Duration", 10)],
    "diagnoses": [("name", "Diagnosis", 40), ("icd10_code", "ICD-10 code", 8)],
    "lab_results": [("test", "Test", 20), ("value", "Value", 8), ("unit", "Unit", 8),
                    ("reference_range", "Reference range", 12)],
}  # fmt: skip
HISTORY_TEXTS = ["doctor", "notes"]
HISTORY_KEYS = {*HISTORY_LISTS, *HISTORY_TEXTS}


class RowsWidget(forms.Widget):
    """A small table: one row per item, one text box per part, plus blank rows to add more.
    Boxes are named `<name>-<row>-<part>`, so it works inside admin inlines too."""

    def __init__(self, columns, blank_rows: int = 2, attrs=None):
        super().__init__(attrs)
        self.columns, self.blank_rows = columns, blank_rows

    def value_from_datadict(self, data, files, name):
        rows = []
        for index in range(200):
            names = [f"{name}-{index}-{key}" for key, _label, _size in self.columns]
            if not any(box in data for box in names):
                break
            keys = [key for key, _label, _size in self.columns]
            rows.append({key: data.get(box, "") for key, box in zip(keys, names, strict=True)})
        return rows

    def value_omitted_from_data(self, data, files, name):
        return False

    def render(self, name, value, attrs=None, renderer=None):
        rows = [row for row in (value or []) if isinstance(row, dict)]
        rows += [{}] * self.blank_rows
        head = format_html_join("", "<th>{}</th>", ((label,) for _k, label, _s in self.columns))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (
                    format_html_join(
                        "",
                        '<td><input type="text" name="{}-{}-{}" value="{}" size="{}" '
                        'aria-label="{} {}"></td>',
                        (
                            (name, index, key, row.get(key) or "", size, label, index + 1)
                            for key, label, size in self.columns
                        ),
                    ),
                )
                for index, row in enumerate(rows)
            ),
        )
        return format_html(
            '<table class="clinical-rows" id="{}"><thead><tr>{}</tr></thead><tbody>{}</tbody>'
            "</table>",
            (attrs or {}).get("id", name),
            head,
            body,
        )


class RowsField(forms.Field):
    """A list of structured items (medications, diagnoses, lab results). A row left as it was
    keeps the stored item exactly, legacy strings and unknown keys included."""

    def __init__(self, key: str, **kwargs):
        self.key, self.columns = key, HISTORY_LISTS[key]
        self.stored: list = []
        kwargs.setdefault("required", False)
        super().__init__(widget=RowsWidget(self.columns), **kwargs)

    def prepare_value(self, value):
        first = self.columns[0][0]
        shown = []
        for item in value or []:
            if isinstance(item, dict):
                shown.append({k: "" if v is None else str(v) for k, v in item.items()})
            else:
                shown.append({first: clinical.item_text(self.key, item)})
        return shown

    def to_python(self, value):
        if not value:
            return []
        if value and not isinstance(value[0], dict):  # initial data (stored items), not a POST
            return list(value)
        items, shown = [], self.prepare_value(self.stored)
        for index, row in enumerate(value):
            row = {k: (v or "").strip() for k, v in row.items()}
            if not any(row.values()):
                continue
            before = shown[index] if index < len(shown) else None
            if before is not None and all(row[k] == before.get(k, "") for k in row):
                items.append(self.stored[index])
            elif self.key == "medications" and not any(v for k, v in row.items() if k != "drug"):
                items.append({k: v for k, v in clinical.parse_medication(row["drug"]).items() if v})
            else:
                items.append({k: v for k, v in row.items() if v})
        return items

    def validate(self, value):
        super().validate(value)
        problems = [
            p for i, item in enumerate(value, 1) if (p := clinical.check_item(self.key, item, i))
        ]
        if problems:
            raise ValidationError(problems)

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != list(initial or [])
        except ValidationError:
            return True


class HistoryEntryForm(forms.ModelForm):
    """A history entry as typed in the clinic: medicine lines, diagnoses, results, free text."""

    medications = RowsField(
        "medications",
        help_text="One medicine per line. Type it as you write it (Tab Metformin 500mg BD x 30 "
        "days) in the first box, or fill the boxes one by one. More lines appear after saving.",
    )
    diagnoses = RowsField("diagnoses", help_text="ICD-10 code optional, e.g. E11.9.")
    lab_results = RowsField("lab_results", label="Lab results")
    doctor = forms.CharField(required=False, max_length=200)
    notes = forms.CharField(
        required=False,
        label="Notes / visit summary",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
    )

    class Meta:
        model = HistoryEntry
        fields = ["type", "date", "source", "document_id"]

    def clean_date(self):
        when = self.cleaned_data.get("date")
        if when is not None and not DATE_MIN <= when.date() <= DATE_MAX:
            raise ValidationError(DATE_RANGE, code="date_range")
        return when

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        content = self.instance.content if isinstance(self.instance.content, dict) else {}
        for key in HISTORY_LISTS:
            stored = content.get(key) if isinstance(content.get(key), list) else []
            self.fields[key].stored = stored
            self.initial.setdefault(key, stored)
        for key in HISTORY_TEXTS:
            self.initial.setdefault(key, content.get(key) or "")

    def clean(self):
        cleaned = super().clean()
        stored = self.instance.content if isinstance(self.instance.content, dict) else {}
        content = {k: v for k, v in stored.items() if k not in HISTORY_KEYS}
        for key in [*HISTORY_LISTS, *HISTORY_TEXTS]:
            if key in self.errors:
                return cleaned
            value = cleaned.get(key)
            value = value.strip() if isinstance(value, str) else value
            if value or key in stored:  # an emptied key stays, so the shape does not change
                content[key] = value
        try:
            self.instance.content = clinical.validate_history_content(content)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


def _soap_box() -> forms.CharField:
    return forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))


class NoteForm(forms.ModelForm):
    """A note as four SOAP boxes and a free-text box. Once saved the note is signed: a change
    needs a reason and is kept as an amendment (the content before it stays readable)."""

    subjective = _soap_box()
    objective = _soap_box()
    assessment = _soap_box()
    plan = _soap_box()
    chief_complaint = forms.CharField(required=False, max_length=500)
    medications = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="One medication per line.",
    )
    text = forms.CharField(
        required=False,
        label="Note text",
        help_text="A manual or transcribed note in free text.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
    )
    amendment_reason = forms.CharField(
        required=False,
        max_length=500,
        label="Reason for the change",
        help_text="Needed to change a saved note; the note as it was stays visible.",
    )

    class Meta:
        model = Note
        fields = [
            "type", *SOAP_PARTS, *NOTE_EXTRAS, "text", "transcript", "language", "audio_file_url",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        content = self.instance.content
        if isinstance(content, dict):
            for part in [*SOAP_PARTS, "chief_complaint", "text"]:
                value = content.get(part, "")
                self.initial.setdefault(part, value if isinstance(value, str) else "")
            medications = content.get("medications") or []
            if isinstance(medications, list):
                medications = "\n".join(map(str, medications))
            self.initial.setdefault("medications", medications)
        elif isinstance(content, str):
            self.initial.setdefault("text", content)

    @property
    def amending(self) -> bool:
        return not self.instance._state.adding

    def changed_note(self) -> bool:
        return any(name != "amendment_reason" for name in self.changed_data)

    def clean(self):
        cleaned = super().clean()
        stored = self.instance.content
        parts = {
            p: cleaned[p].strip()
            for p in [*SOAP_PARTS, "chief_complaint"]
            if (cleaned.get(p) or "").strip()
        }
        medications = [m.strip() for m in (cleaned.get("medications") or "").splitlines()]
        if any(medications):
            parts["medications"] = [m for m in medications if m]
        text = (cleaned.get("text") or "").strip()
        if isinstance(stored, str) and not parts:
            content = text
        else:
            other = {k: v for k, v in (stored if isinstance(stored, dict) else {}).items()
                     if k not in NOTE_KEYS}  # fmt: skip
            content = {**other, **parts, **({"text": text} if text else {})}
        if not content and not (cleaned.get("transcript") or "").strip():
            raise ValidationError("Write the note: fill in at least one box.")
        if self.amending and self.changed_note():
            if not (cleaned.get("amendment_reason") or "").strip():
                self.add_error("amendment_reason", "Say why you are changing this signed note.")
        self.instance.content = content
        return cleaned
