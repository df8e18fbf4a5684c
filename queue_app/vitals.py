"""Vitals at the nurse step: plausible ranges, and the write that records them on a visit."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clinic import ids
from clinic.db import create_with_new_id
from queue_app.models import QueueEntry, Vitals


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    label: str
    unit: str
    whole: bool = True


# Wide enough for any living patient in clinic, narrow enough to catch a typo (37 typed as 370,
# a weight typed in grams, the two BP numbers swapped).
RANGES: dict[str, Range] = {
    "systolic_bp": Range(50, 260, "Systolic BP", "mmHg"),
    "diastolic_bp": Range(30, 160, "Diastolic BP", "mmHg"),
    "pulse": Range(20, 250, "Pulse", "/min"),
    "temperature_c": Range(30, 45, "Temperature", "°C", whole=False),
    "spo2": Range(50, 100, "SpO2", "%"),
    "respiratory_rate": Range(4, 60, "Respiratory rate", "/min"),
    "weight_kg": Range(0.5, 350, "Weight", "kg", whole=False),
    "height_cm": Range(30, 250, "Height", "cm", whole=False),
    "blood_glucose": Range(20, 800, "Blood glucose", "mg/dL", whole=False),
}
RECORD_PERMISSION = "queue_app.change_queueentry"


def vitals_clean(values: dict) -> dict:
    """Numbers within their plausible range (blank means not taken); ValidationError per field
    with a message that says the range and the unit."""
    cleaned, errors = {}, {}
    for name, value in values.items():
        if name not in RANGES:
            errors[name] = f"Unknown vital sign {name!r}."
            continue
        rule = RANGES[name]
        if value in (None, ""):
            continue
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            errors[name] = f"{rule.label} must be a number ({rule.unit})."
            continue
        if rule.whole and number != number.to_integral_value():
            errors[name] = f"{rule.label} is a whole number ({rule.unit})."
        elif not rule.low <= number <= rule.high:
            errors[name] = (
                f"{rule.label} {number} {rule.unit} is not plausible: expected "
                f"{rule.low:g}–{rule.high:g} {rule.unit}."
            )
        else:
            cleaned[name] = int(number) if rule.whole else number.quantize(Decimal("0.1"))
    systolic, diastolic = cleaned.get("systolic_bp"), cleaned.get("diastolic_bp")
    if (systolic is None) != (diastolic is None) and not errors:
        errors["diastolic_bp" if systolic else "systolic_bp"] = (
            "Give both blood pressure numbers (systolic and diastolic)."
        )
    if systolic is not None and diastolic is not None and systolic <= diastolic:
        errors["systolic_bp"] = "Systolic BP must be higher than diastolic (e.g. 120/80)."
    if not errors and not cleaned:
        errors["__all__"] = "Enter at least one vital sign."
    if errors:
        raise ValidationError(errors)
    return cleaned


def vitals_record(*, entry_id: str, by, values: dict, now: datetime | None = None) -> Vitals:
    """Record a set of vitals on a queue entry (nurse or doctor); the board redraws."""
    from queue_app.services import queue_version_bump

    if by is not None and not by.has_perm(RECORD_PERMISSION):
        raise PermissionDenied("Your role may not record vitals.")
    entry = QueueEntry.objects.filter(pk=entry_id).only("id", "patient_id", "day").first()
    if entry is None:
        raise ValidationError({"entry": f"No queue entry {entry_id}."})
    cleaned = vitals_clean(values)
    vitals = create_with_new_id(
        Vitals,
        ids.new_vitals_id,
        entry_id=entry.pk,
        patient_id=entry.patient_id,
        recorded_at=now or timezone.now(),
        recorded_by=by.get_username() if by is not None else "",
        **cleaned,
    )
    queue_version_bump(days=[entry.day])
    return vitals


def vitals_text(vitals: Vitals | dict) -> str:
    """'BP 120/80 · P 78 · T 37.2 · SpO2 98% · RR 16 · 70 kg · BMI 24.2 · Glu 110'."""
    get = vitals.get if isinstance(vitals, dict) else lambda name: getattr(vitals, name, None)
    parts = []
    if get("systolic_bp") and get("diastolic_bp"):
        parts.append(f"BP {get('systolic_bp')}/{get('diastolic_bp')}")
    for name, label, unit in (("pulse", "P", ""), ("temperature_c", "T", "°C"),
                              ("spo2", "SpO2", "%"), ("respiratory_rate", "RR", ""),
                              ("weight_kg", "", " kg"), ("height_cm", "", " cm"),
                              ("blood_glucose", "Glu", "")):  # fmt: skip
        value = get(name)
        if value is not None:
            parts.append(f"{label} {value}{unit}".strip())
    weight, height = get("weight_kg"), get("height_cm")
    if weight and height:
        parts.append(f"BMI {float(weight) / (float(height) / 100) ** 2:.1f}")
    return " · ".join(parts)
