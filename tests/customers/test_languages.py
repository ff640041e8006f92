"""Which language a customer reads: theirs, else their channel's, else the default."""

import pytest

from customers.languages import reader_language, supported_language, text_in_language


@pytest.mark.parametrize(
    ("code", "language"),
    [("ru", "ru"), ("ru-RU", "ru"), ("pl_PL", "pl"), ("PL", "pl"), (" en-GB ", "en"),
     ("de", ""), ("", ""), (None, ""), (7, ""), ("russian", "")],
)  # fmt: skip
def test_codes_map_to_the_products_languages_or_to_nothing(code, language):
    assert supported_language(code) == language


def test_the_customers_language_comes_first_then_the_channels_then_the_default(settings):
    settings.LANGUAGE_CODE = "pl"
    assert reader_language("ru", "en") == "ru"
    assert reader_language("", "en") == "en"
    assert reader_language("de", None) == "pl"  # a language we do not speak counts as none
    assert reader_language() == "pl"


def test_a_text_per_language_falls_back_to_the_catalogue():
    per_language = {"ru": "Как всё прошло?", "en": "How was it?"}
    assert text_in_language(per_language, "ru", fallback="catalogue") == "Как всё прошло?"
    assert text_in_language(per_language, "pl", fallback="catalogue") == "catalogue"
    assert text_in_language("One for all", "pl", fallback="catalogue") == "One for all"
    assert text_in_language("  ", "pl", fallback="catalogue") == "catalogue"
