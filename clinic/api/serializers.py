"""Serializer fields shared by the apps' APIs, with messages staff understand."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers

from clinic.text import check_date


def choice_error(label: str, choices) -> dict:
    return {"invalid_choice": f"{label} must be one of: {', '.join(v for v, _ in choices)}."}


def ref(model, noun: str, example: str, **kwargs) -> serializers.PrimaryKeyRelatedField:
    """A reference to another record by its domain ID; an unknown ID is a 400 that says so."""
    return serializers.PrimaryKeyRelatedField(
        queryset=model.objects.all(),
        error_messages={
            "required": f"Say which {noun} this is for (its ID).",
            "null": f"Say which {noun} this is for (its ID).",
            "does_not_exist": f"No {noun} has the ID {{pk_value}}.",
            "incorrect_type": f"A {noun} ID is text such as {example}.",
        },
        **kwargs,
    )


def _check_date_range(value):
    try:
        check_date(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class BoundedDateField(serializers.DateField):
    """A date within clinic.text's DATE_MIN…DATE_MAX, so nothing overflows on its way to UTC."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        _check_date_range(day)
        return day


class BoundedDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        _check_date_range(moment)
        return moment


def bound_model_serializer_dates() -> None:
    """Every ModelSerializer's date fields check the range (called once from ClinicConfig)."""
    mapping = serializers.ModelSerializer.serializer_field_mapping
    mapping[models.DateField] = BoundedDateField
    mapping[models.DateTimeField] = BoundedDateTimeField
