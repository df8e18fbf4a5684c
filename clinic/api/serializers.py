"""Serializer fields shared by the apps' APIs, with messages staff understand."""

from rest_framework import serializers


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
