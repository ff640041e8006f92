"""`manage.py translations --check` (run by `make lint`) fails on a marked text that no
catalogue has, and leaves the catalogues as it found them."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

LOCALE = Path(settings.LOCALE_PATHS[0])
TEMPLATES = Path(settings.BASE_DIR) / "inbox" / "templates" / "inbox"


def catalogue_bytes() -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))}


def test_a_marked_text_missing_from_the_catalogues_fails_the_check():
    before = catalogue_bytes()
    probe = TEMPLATES / "_untranslated_probe.html"
    probe.write_text('{% load i18n %}{% translate "A sentence no catalogue holds yet" %}\n')
    try:
        with pytest.raises(CommandError) as failure:
            call_command("translations", check=True)
    finally:
        probe.unlink()

    assert "not in the catalogue: 'A sentence no catalogue holds yet'" in str(failure.value)
    assert "locale/ru/LC_MESSAGES/django.po" in str(failure.value)
    assert "locale/pl/LC_MESSAGES/django.po" in str(failure.value)
    assert catalogue_bytes() == before


def test_the_committed_catalogues_pass_the_check():
    call_command("translations", check=True)
