"""Which language a customer reads, and the languages the product speaks.

A customer's own language (told by their platform, or set in their profile) comes
first, then their channel's (`config.language`), then the installation's LANGUAGE_CODE.
A code outside the product's languages counts as not known.
"""

from collections.abc import Mapping

from django.conf import settings


def supported_language(code: object) -> str:
    """The product's language for a code such as "ru", "ru-RU", "pl_PL" or "PL"; ""
    when the code is none of them."""
    if not isinstance(code, str):
        return ""
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in {known for known, _ in settings.LANGUAGES} else ""


def reader_language(*codes: object) -> str:
    """The first of these codes the product speaks (the customer's own first, then the
    channel's), else LANGUAGE_CODE."""
    for code in codes:
        if language := supported_language(code):
            return language
    return settings.LANGUAGE_CODE


def channel_language(channel_config: object) -> str:
    """The language a channel's settings name for its customers; "" when none."""
    if isinstance(channel_config, Mapping):
        return supported_language(channel_config.get("language"))
    return ""


def text_in_language(text: object, language: str, *, fallback: str) -> str:
    """A configurable text given as one string or per language ({"en": …, "ru": …}): the
    one for `language`, else `fallback` (the catalogue's text in that language)."""
    if isinstance(text, str) and text.strip():
        return text
    if isinstance(text, Mapping):
        chosen = text.get(language)
        if isinstance(chosen, str) and chosen.strip():
            return chosen
    return fallback
