"""The nurse's vitals form: plain boxes, ranges checked by `queue_app.vitals`."""

from django import forms
from django.core.exceptions import ValidationError

from queue_app.vitals import RANGES, vitals_clean


class VitalsForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, rule in RANGES.items():
            self.fields[name] = forms.CharField(
                label=f"{rule.label} ({rule.unit})",
                required=False,
                widget=forms.NumberInput(
                    attrs={
                        "step": "1" if rule.whole else "0.1",
                        "min": rule.low,
                        "max": rule.high,
                        "inputmode": "decimal",
                        "size": 6,
                    }  # fmt: skip
                ),
            )

    def clean(self):
        cleaned = super().clean()
        try:
            return vitals_clean({name: cleaned.get(name) for name in RANGES})
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(None if field == "__all__" else field, messages)
            return cleaned
