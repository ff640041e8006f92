"""A channel's settings as an admin edits them in the admin pages, for the kinds that have
a form of their own (VK, Viber, Messenger, Instagram, WhatsApp): a field per setting instead of the
raw `config`, secrets write-only (left empty, the saved one stays), each checked in the
admin's language and then as the API checks them (the adapter's split_config), and saved
through channel_update like a PATCH, or channel_create on the add page."""

from typing import Any, ClassVar, cast

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from channels_app.adapters.base import ConfigInvalid
from channels_app.adapters.viber.outbound import MAX_SENDER_NAME_LENGTH, MAX_TEXT_LENGTH
from channels_app.adapters.viber.setup import MAX_SENDER_AVATAR_LENGTH
from channels_app.adapters.vk import API_VERSION
from channels_app.adapters.vk.setup import MAX_SECRET_KEY_LENGTH
from channels_app.models import Channel, ChannelKind
from channels_app.registry import adapter_class

# The channel's own columns, shown beside its settings.
CHANNEL_FIELDS = ("kind", "name", "is_active", "teams", "reopen_window_seconds", "csat")
SECRET_KEEP_HELP = _("Set. Leave empty to keep it; it is never shown again.")
SECRET_UNSET_HELP = _("Not set yet.")
NOT_SAVED_YET = _("Required: none is saved yet.")
META_NUMERIC_ID = RegexValidator(r"^[0-9]+$", _("The numeric id Meta shows, digits only."))
MAX_META_SECRET_LENGTH = 1000
WEB_ADDRESS = URLValidator(schemes=["http", "https"], message=_("Enter an http or https address."))


def secret_field(label, help_text="", max_length: int | None = None) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        strip=True,
        max_length=max_length,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def api_address_field(label, help_text, max_length: int | None = None) -> forms.URLField:
    return forms.URLField(
        label=label,
        required=False,
        max_length=max_length,
        assume_scheme="https",
        validators=[WEB_ADDRESS],
        help_text=help_text,
    )


class ChannelSettingsForm(forms.ModelForm):
    """The form of one kind: its settings fields map onto `config` keys of that name."""

    kind_value: ClassVar[str]
    # Fields that are write-only secrets (never shown back), and the shown settings.
    secret_keys: ClassVar[tuple[str, ...]] = ()
    public_keys: ClassVar[tuple[str, ...]] = ()
    # Secrets shown back to the admin (not a credential: VK shows it on its own page).
    shown_secret_keys: ClassVar[tuple[str, ...]] = ()

    class Meta:
        model = Channel
        fields = CHANNEL_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel: Channel = self.instance
        # The kind is the form's. On the add page it is still sent (the only choice), so
        # that the page keeps this form however it was reached (?kind=vk, or the kind
        # chosen on the general form).
        self.initial["kind"] = self.kind_value
        kind_field = cast(forms.ChoiceField, self.fields["kind"])
        if channel.pk:
            kind_field.disabled = True
        else:
            kind_field.choices = [(self.kind_value, ChannelKind(self.kind_value).label)]
        saved = channel.secrets if channel.pk else {}
        for key in self.public_keys:
            self.fields[key].initial = self.initial_setting(channel.config, key)
        for key in self.shown_secret_keys:
            self.fields[key].initial = saved.get(key, "")
        for key in self.secret_keys:
            field = self.fields[key]
            status = SECRET_KEEP_HELP if saved.get(key) else SECRET_UNSET_HELP
            field.help_text = " ".join(str(part) for part in (field.help_text, status) if part)
        # The whole config once valid: what the saved channel's settings become.
        self.new_config: dict[str, Any] = {}

    def initial_setting(self, config: dict[str, Any], key: str) -> Any:
        return config.get(key, "")

    def setting_values(self) -> dict[str, Any]:
        """The settings as `config` keys, from the cleaned fields."""
        values = {key: self.cleaned_data.get(key) for key in self.public_keys}
        return {key: "" if value is None else value for key, value in values.items()}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        channel: Channel = self.instance
        saved = channel.secrets if channel.pk else {}
        required = adapter_class(self.kind_value).required_config_keys
        changes = self.setting_values()
        for key in (*self.secret_keys, *self.shown_secret_keys):
            value = self.cleaned_data.get(key) or ""
            if value:
                changes[key] = value
            elif key in required and not saved.get(key):
                self.add_error(key, NOT_SAVED_YET)
        # An empty setting is no setting: dropped rather than kept as "".
        config = {
            key: value
            for key, value in {**channel.config, **changes}.items()
            if value not in ("", None, {})
        }
        if not self.errors:
            try:
                adapter_class(self.kind_value).split_config(config, existing_secrets=saved)
            except ConfigInvalid as invalid:
                for key, message in invalid.errors.items():
                    if key in self.fields:
                        self.add_error(key, message)
                    else:
                        self.add_error(None, f"{key}: {message}")
        self.new_config = config
        return cleaned


class VkChannelSettingsForm(ChannelSettingsForm):
    kind_value = "vk"
    public_keys = ("group_id", "api_base_url")
    secret_keys = ("access_token", "secret_key")
    shown_secret_keys = ("confirmation_code",)

    group_id = forms.CharField(
        label=_("Community ID"),
        max_length=20,
        help_text=_(
            "The community's number, as in its address club<number>, without a minus sign."
        ),
        validators=[RegexValidator(r"^[0-9]+$", _("Enter the community's number: digits only."))],
    )
    access_token = secret_field(
        _("Community access token"),
        _("Made in the community's settings (API usage → Access tokens) with the messages right."),
    )
    secret_key = secret_field(
        _("Secret key"),
        _(
            "Up to 50 Latin letters and digits, also typed into the community's Callback API "
            "settings: VK sends it with every event."
        ),
    )
    confirmation_code = forms.CharField(
        label=_("Confirmation code"),
        required=False,
        max_length=100,
        help_text=_(
            "The string the community's Callback API page asks the server to return. "
            "“Connect VK Callback API” fills it in."
        ),
    )
    api_base_url = api_address_field(
        _("API address"),
        _("Empty for VK's own (https://api.vk.com); a stand-in's address for demos and tests."),
    )
    api_version = forms.CharField(
        label=_("VK API version"),
        required=False,
        disabled=True,
        initial=API_VERSION,
        help_text=_(
            "Set by Switchboard, not per channel: events are read and calls made as this "
            "version describes them."
        ),
    )

    def clean_secret_key(self) -> str:
        value = self.cleaned_data.get("secret_key") or ""
        if value and not (
            len(value) <= MAX_SECRET_KEY_LENGTH and value.isascii() and value.isalnum()
        ):
            raise forms.ValidationError(_("Use up to 50 Latin letters and digits."))
        return value


class _ViberChannelSettingsFields(ChannelSettingsForm):
    kind_value = "viber"
    public_keys = ("sender_name", "sender_avatar", "api_base_url")
    secret_keys = ("auth_token",)

    auth_token = secret_field(
        _("Bot token"),
        _("The token Viber gave when the bot was made (Viber Admin Panel, Edit info)."),
    )
    sender_name = forms.CharField(
        label=_("Sender name"),
        max_length=MAX_SENDER_NAME_LENGTH,
        help_text=_("The name customers see on replies, up to 28 characters."),
    )
    sender_avatar = forms.URLField(
        label=_("Sender avatar"),
        required=False,
        max_length=MAX_SENDER_AVATAR_LENGTH,
        assume_scheme="https",
        validators=[WEB_ADDRESS],
        help_text=_(
            "The address of the picture customers see beside replies (Viber asks for a "
            "square picture under 100 KB). Empty: the bot's own."
        ),
    )
    api_base_url = api_address_field(
        _("API address"), _("Empty for Viber's own; a stand-in's address for demos and tests.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        welcome = self.instance.config.get("welcome_message")
        for code, name in settings.LANGUAGES:
            field = self.fields[welcome_field_name(code)]
            # Labelled here, in the admin's language (the class is made once, at import).
            field.label = _("Welcome message (%(language)s)") % {"language": name}
            if isinstance(welcome, str):
                field.initial = welcome
            elif isinstance(welcome, dict):
                field.initial = welcome.get(code, "")

    def setting_values(self) -> dict[str, Any]:
        values = super().setting_values()
        values["welcome_message"] = {
            code: text
            for code, _name in settings.LANGUAGES
            if (text := (self.cleaned_data.get(welcome_field_name(code)) or "").strip())
        }
        return values


def welcome_field_name(code: str) -> str:
    return f"welcome_message_{code}"


def _welcome_field() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Sent once to a customer who opens the chat and reads this language; it opens no "
            "conversation. Empty: no greeting in this language."
        ),
    )


# One welcome message field per language the product speaks, declared on the class so
# that the admin may place them.
ViberChannelSettingsForm = cast(
    type[ChannelSettingsForm],
    type(
        "ViberChannelSettingsForm",
        (_ViberChannelSettingsFields,),
        {welcome_field_name(code): _welcome_field() for code, _name in settings.LANGUAGES},
    ),
)


class MetaAppSettingsForm(ChannelSettingsForm):
    """The Meta app's settings every Meta kind has (Messenger, Instagram, WhatsApp)."""

    app_secret = secret_field(
        _("App secret"),
        _("Checks the signature of every webhook (App settings → Basic)."),
        max_length=MAX_META_SECRET_LENGTH,
    )
    verify_token = secret_field(
        _("Verify token"),
        _("Any long random text; give Meta the same when adding the webhook."),
        max_length=MAX_META_SECRET_LENGTH,
    )


class _MetaMessagingSettingsForm(MetaAppSettingsForm):
    """Messenger and Instagram: an account id and its token, then the app's settings."""

    human_agent_tag = forms.BooleanField(
        label=_("The app has Meta's Human Agent permission"),
        required=False,
        help_text=_(
            "Replies may then go up to 7 days after the customer's last message "
            "instead of 24 hours."
        ),
    )
    api_base_url = api_address_field(
        _("Graph API address"),
        _(
            "Leave empty for Meta's own. Without a version at its end (…/v26.0), "
            "the current one is added."
        ),
        max_length=500,
    )


def _meta_account_id_field(label) -> forms.CharField:
    return forms.CharField(label=label, max_length=40, validators=[META_NUMERIC_ID])


class MessengerChannelSettingsForm(_MetaMessagingSettingsForm):
    kind_value = "messenger"
    public_keys = ("page_id", "human_agent_tag", "api_base_url")
    secret_keys = ("page_access_token", "app_secret", "verify_token")

    page_id = _meta_account_id_field(_("Facebook page id"))
    page_access_token = secret_field(_("Page access token"), max_length=MAX_META_SECRET_LENGTH)
    field_order = ("page_id", "page_access_token")


class InstagramChannelSettingsForm(_MetaMessagingSettingsForm):
    kind_value = "instagram"
    public_keys = ("instagram_account_id", "human_agent_tag", "api_base_url")
    secret_keys = ("access_token", "app_secret", "verify_token")

    instagram_account_id = _meta_account_id_field(_("Instagram account id"))
    access_token = secret_field(_("Access token"), max_length=MAX_META_SECRET_LENGTH)
    field_order = ("instagram_account_id", "access_token")


def settings_fieldsets(form_class: type[ChannelSettingsForm], *, adding: bool) -> list:
    """The admin page's sections for a kind's form: the channel, then its settings (those
    in the form's `field_order` first, as a form orders its fields)."""
    declared = [name for name in form_class.base_fields if name not in CHANNEL_FIELDS]
    first = [name for name in form_class.field_order or () if name in declared]
    settings_fields = [*first, *(name for name in declared if name not in first)]
    shown_after_saving = () if adding else ("public_id", "secrets_status")
    return [
        (None, {"fields": [*CHANNEL_FIELDS, *shown_after_saving]}),
        (_("Settings"), {"fields": settings_fields}),
    ]
