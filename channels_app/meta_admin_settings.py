"""The settings of a channel as its admin page edits them, field by field for the kinds
that have a form of their own (Messenger, Instagram): labelled in the admin's language,
checked as the API checks them, secrets write-only (an empty field keeps the stored one)."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

from django import forms
from django.core.validators import RegexValidator, URLValidator
from django.utils.translation import gettext_lazy

from channels_app.adapters.base import ConfigInvalid
from channels_app.models import Channel
from channels_app.registry import adapter_class

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

SECRET_KEEP_HELP = gettext_lazy("Set. Leave empty to keep it; it is never shown again.")
SECRET_UNSET_HELP = gettext_lazy("Not set yet.")
NUMERIC_ID = RegexValidator(
    r"^[0-9]+$", gettext_lazy("The numeric id Meta shows, digits only."), code="invalid"
)


@dataclass(frozen=True)
class SettingsField:
    key: str  # the config key it edits
    field: forms.Field
    is_secret: bool = False


def _account_id(label: "_StrOrPromise") -> forms.Field:
    return forms.CharField(label=label, max_length=40, validators=[NUMERIC_ID])


def _secret(label: "_StrOrPromise", help_text: "_StrOrPromise" = "") -> forms.Field:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=1000,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def _meta_messaging_fields(account: SettingsField, token: SettingsField) -> list[SettingsField]:
    return [
        account,
        token,
        SettingsField(
            "app_secret",
            _secret(
                gettext_lazy("App secret"),
                gettext_lazy("Checks the signature of every webhook (App settings → Basic)."),
            ),
            is_secret=True,
        ),
        SettingsField(
            "verify_token",
            _secret(
                gettext_lazy("Verify token"),
                gettext_lazy("Any long random text; give Meta the same when adding the webhook."),
            ),
            is_secret=True,
        ),
        SettingsField(
            "human_agent_tag",
            forms.BooleanField(
                label=gettext_lazy("The app has Meta's Human Agent permission"),
                required=False,
                help_text=gettext_lazy(
                    "Replies may then go up to 7 days after the customer's last message "
                    "instead of 24 hours."
                ),
            ),
        ),
        SettingsField(
            "api_base_url",
            forms.URLField(
                label=gettext_lazy("Graph API address"),
                required=False,
                max_length=500,
                assume_scheme="https",
                validators=[URLValidator(schemes=["http", "https"])],
                help_text=gettext_lazy(
                    "Leave empty for Meta's own. Without a version at its end (…/v26.0), "
                    "the current one is added."
                ),
            ),
        ),
    ]


SETTINGS_FIELDS: dict[str, list[SettingsField]] = {
    "messenger": _meta_messaging_fields(
        SettingsField("page_id", _account_id(gettext_lazy("Facebook page id"))),
        SettingsField(
            "page_access_token", _secret(gettext_lazy("Page access token")), is_secret=True
        ),
    ),
    "instagram": _meta_messaging_fields(
        SettingsField("instagram_account_id", _account_id(gettext_lazy("Instagram account id"))),
        SettingsField("access_token", _secret(gettext_lazy("Access token")), is_secret=True),
    ),
}


def has_settings_form(kind: str | None) -> TypeGuard[str]:
    return kind in SETTINGS_FIELDS


def channel_settings_form(base_form: type[forms.ModelForm], kind: str) -> type[forms.ModelForm]:
    """The admin's form for a channel of `kind`: `base_form` with the kind's settings."""
    fields = {spec.key: spec.field for spec in SETTINGS_FIELDS[kind]}
    return type(
        f"{kind.title()}ChannelForm", (ChannelSettingsForm, base_form), {**fields, "kind": kind}
    )


class ChannelSettingsForm(forms.ModelForm):
    """Fills the settings fields from the channel and writes them back, checked by the
    kind's adapter: public ones into `config`, secrets into the encrypted store."""

    kind: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel: Channel = self.instance
        stored = channel.secrets if channel.pk else {}
        for spec in SETTINGS_FIELDS[self.kind]:
            field = self.fields[spec.key]
            if spec.is_secret:
                is_set = bool(stored.get(spec.key))
                # Required on a new channel only: an empty field keeps the stored secret.
                field.required = not is_set
                status = SECRET_KEEP_HELP if is_set else SECRET_UNSET_HELP
                field.help_text = " ".join(str(part) for part in (field.help_text, status) if part)
            elif channel.pk and spec.key in channel.config:
                self.initial[spec.key] = channel.config[spec.key]
        if "kind" in self.fields:
            self.initial.setdefault("kind", self.kind)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        channel: Channel = self.instance
        config = dict(channel.config) if channel.pk else {}
        for spec in SETTINGS_FIELDS[self.kind]:
            value = cleaned.get(spec.key)
            if spec.is_secret:
                if value:
                    config[spec.key] = value
            elif value in ("", None):
                config.pop(spec.key, None)
            else:
                config[spec.key] = value
        try:
            public, secrets = adapter_class(self.kind).split_config(
                config, existing_secrets=channel.secrets if channel.pk else {}
            )
        except ConfigInvalid as invalid:
            for key, message in invalid.errors.items():
                if key in self.fields:
                    self.add_error(key, message)
                else:
                    self.add_error(None, f"{key}: {message}")
            return cleaned
        self._settings = (public, secrets)
        return cleaned

    def save(self, commit: bool = True) -> Channel:
        channel: Channel = super().save(commit=False)
        public, secrets = self._settings
        if channel.pk and {k: v for k, v in secrets.items() if v} != channel.secrets:
            channel.secrets_rejected = ""  # a new token is tried afresh
        channel.kind = self.kind
        channel.config = public
        channel.set_secrets(secrets)
        if commit:
            channel.save()
            self.save_m2m()
        return channel
