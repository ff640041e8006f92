"""The inbox script's catalogue (djangojs, served at /jsi18n/): counted phrases take each
language's plural forms, and the page gets the catalogue of the operator's language; days
and months the server writes read as dates in each language."""

import gettext
import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import formats, translation

SEARCH_RESULTS = (
    "%(count)s conversation matching “%(text)s”",
    "%(count)s conversations matching “%(text)s”",
)


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        (
            "ru",
            {1: "диалог", 2: "диалога", 5: "диалогов", 21: "диалог", 22: "диалога", 25: "диалогов"},
        ),
        (
            "pl",
            {1: "rozmowa", 2: "rozmowy", 5: "rozmów", 21: "rozmów", 22: "rozmowy", 25: "rozmów"},
        ),
    ],
)
def test_search_results_are_counted_in_each_languages_plural_forms(language, forms):
    catalogue = gettext.translation(
        "djangojs", localedir=Path(settings.LOCALE_PATHS[0]), languages=[language]
    )

    for count, word in forms.items():
        text = catalogue.ngettext(*SEARCH_RESULTS, count) % {"count": count, "text": "zamówienie"}
        assert text.split()[:2] == [str(count), word], text


@pytest.mark.django_db
def test_the_page_loads_the_script_catalogue_of_the_operators_language(client, operator):
    operator.language = "pl"
    operator.save()
    client.force_login(operator)

    page = client.get("/").content.decode()
    catalogue = client.get("/jsi18n/?language=pl").content.decode()

    assert '/jsi18n/?language=pl"' in page
    # The catalogue is JSON inside the script.
    assert json.dumps("Nie udało się otworzyć rozmowy.") in catalogue


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "December 7"), ("ru", "7 декабря"), ("pl", "7 grudnia")]
)
def test_a_day_and_month_read_as_a_date_in_each_language(language, shown):
    with translation.override(language):
        assert formats.date_format(date(2026, 12, 7), "MONTH_DAY_FORMAT") == shown


BREACHED_AGO = ("Breached %(count)s min ago", "Breached %(count)s min ago")
DUE_IN = ("Due in %(count)s minute", "Due in %(count)s minutes")


@pytest.mark.parametrize(
    ("language", "phrases", "forms"),
    [
        ("ru", BREACHED_AGO, {1: "минуту", 2: "минуты", 5: "минут", 21: "минуту", 12: "минут"}),
        ("pl", BREACHED_AGO, {1: "minutę", 2: "minuty", 5: "minut", 21: "minut", 22: "minuty"}),
        ("ru", DUE_IN, {1: "минута", 3: "минуты", 11: "минут", 31: "минута", 44: "минуты"}),
        ("pl", DUE_IN, {1: "minutę", 3: "minuty", 12: "minut", 24: "minuty", 25: "minut"}),
    ],
)
def test_sla_countdowns_are_counted_in_each_languages_plural_forms(language, phrases, forms):
    catalogue = gettext.translation(
        "djangojs", localedir=Path(settings.LOCALE_PATHS[0]), languages=[language]
    )

    for count, word in forms.items():
        text = catalogue.ngettext(*phrases, count) % {"count": count}
        assert f" {count} {word}" in text, text
