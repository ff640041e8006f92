"""A WhatsApp channel's settings as an admin edits them in the admin pages (see
admin_settings): the number and its secrets, and the two approved templates it may send
outside the 24-hour window, the reply's and the survey's, each as a few fields rather
than raw JSON."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from channels_app.admin_settings import (
    MAX_META_SECRET_LENGTH,
    META_NUMERIC_ID,
    MetaAppSettingsForm,
    api_address_field,
    secret_field,
)

SURVEY_BUTTONS = [
    ("quick_reply", _("Quick-reply buttons, one per value, highest first")),
    ("url", _("A link button to the survey page")),
]


class WhatsAppChannelSettingsForm(MetaAppSettingsForm):
    kind_value = "whatsapp"
    public_keys = ("phone_number_id", "api_base_url")
    secret_keys = ("access_token", "app_secret", "verify_token")

    phone_number_id = forms.CharField(
        label=_("Phone number ID"), max_length=40, validators=[META_NUMERIC_ID]
    )
    access_token = secret_field(_("Access token"), max_length=MAX_META_SECRET_LENGTH)
    api_base_url = api_address_field(
        _("Graph API address"), _("Leave empty for Meta's own."), max_length=500
    )
    fallback_template_name = forms.CharField(
        label=_("Reply template"),
        required=False,
        max_length=512,
        help_text=_(
            "The approved template sent instead of a reply outside the 24-hour window. "
            "Empty: such a reply fails with the reason."
        ),
    )
    fallback_template_language = forms.CharField(
        label=_("Reply template language"), required=False, max_length=16
    )
    fallback_template_text_parameter = forms.BooleanField(
        label=_("The reply template's one variable carries the reply"), required=False
    )
    survey_template_name = forms.CharField(
        label=_("Survey template"),
        required=False,
        max_length=512,
        help_text=_(
            "The approved template a survey goes as outside the 24-hour window. Empty: "
            "such a survey is skipped, and the reports count it."
        ),
    )
    survey_template_languages = forms.CharField(
        label=_("Survey template languages"),
        required=False,
        max_length=500,
        help_text=_(
            "The customer's language and the template's language code, e.g. "
            "en=en_US, ru=ru, pl=pl. Customers of other languages get the channel's."
        ),
    )
    survey_template_buttons = forms.ChoiceField(
        label=_("Survey template buttons"), required=False, choices=[("", "—"), *SURVEY_BUTTONS]
    )
    field_order = ("phone_number_id", "access_token")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = self.instance.config if self.instance.pk else {}
        fallback = config.get("fallback_template")
        if isinstance(fallback, dict):
            self.fields["fallback_template_name"].initial = fallback.get("name", "")
            self.fields["fallback_template_language"].initial = fallback.get("language", "")
            self.fields["fallback_template_text_parameter"].initial = bool(
                fallback.get("text_parameter")
            )
        survey = config.get("survey_template")
        if isinstance(survey, dict):
            self.fields["survey_template_name"].initial = survey.get("name", "")
            languages = survey.get("languages")
            if isinstance(languages, dict):
                self.fields["survey_template_languages"].initial = ", ".join(
                    f"{reader}={code}" for reader, code in languages.items()
                )
            self.fields["survey_template_buttons"].initial = survey.get("buttons", "")

    def clean_survey_template_languages(self) -> dict[str, str]:
        text = self.cleaned_data.get("survey_template_languages") or ""
        languages: dict[str, str] = {}
        for pair in filter(None, (part.strip() for part in text.split(","))):
            reader, equals, code = pair.partition("=")
            if not equals or not reader.strip() or not code.strip():
                raise forms.ValidationError(
                    _("Write each as language=code, separated by commas: en=en_US, ru=ru.")
                )
            languages[reader.strip()] = code.strip()
        return languages

    def setting_values(self) -> dict[str, Any]:
        values = super().setting_values()
        data = self.cleaned_data
        values["fallback_template"] = (
            {
                "name": data["fallback_template_name"],
                "language": data.get("fallback_template_language") or "",
                **(
                    {"text_parameter": True} if data.get("fallback_template_text_parameter") else {}
                ),
            }
            if data.get("fallback_template_name")
            else ""
        )
        values["survey_template"] = (
            {
                "name": data["survey_template_name"],
                "languages": data.get("survey_template_languages") or {},
                "buttons": data.get("survey_template_buttons") or "",
            }
            if data.get("survey_template_name")
            else ""
        )
        return values
