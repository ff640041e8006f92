"""Fields for texts an admin writes for customers to read."""

from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": 500},
            {"type": "object", "additionalProperties": {"type": "string", "maxLength": 500}},
        ]
    }
)
class TextPerLanguageField(serializers.Field):
    """One text for every language, or one per language ({"en": "…", "ru": "…"}); a
    language left out reads the catalogue's text."""

    MAX_LENGTH = 500

    def to_internal_value(self, data):
        codes = [code for code, _ in settings.LANGUAGES]
        if isinstance(data, str) and 0 < len(data.strip()) <= self.MAX_LENGTH:
            return data
        if (
            isinstance(data, dict)
            and data
            and set(data) <= set(codes)
            and all(
                isinstance(text, str) and 0 < len(text.strip()) <= self.MAX_LENGTH
                for text in data.values()
            )
        ):
            return data
        raise ValidationError(
            gettext(
                "a text of 1 to %(length)s characters, or one per language (%(codes)s) as an object"
            )
            % {"length": self.MAX_LENGTH, "codes": ", ".join(codes)}
        )

    def to_representation(self, value):
        return value
