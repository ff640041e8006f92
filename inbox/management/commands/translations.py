"""Keep the catalogues in locale/ whole: `--update` after marking strings, `--check` in CI.

The compiled catalogues (.mo) are committed, so an install needs no GNU gettext; they
are written here from the .po files with polib, byte for byte the same each time, which
lets the check compare them. Finding the marked strings (makemessages) needs xgettext.
"""

import shutil
import tempfile
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

DOMAINS = ("django", "djangojs")
IGNORED = [".venv", "tests", "bench", "var", "*.egg-info", "node_modules"]


class Command(BaseCommand):
    help = "Update the translation catalogues, or check that they are complete and compiled."

    def add_arguments(self, parser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--update", action="store_true", help="makemessages, then compile")
        action.add_argument("--check", action="store_true", help="fail on anything missing")

    def handle(self, *args, **options) -> None:
        locale_dir = Path(settings.LOCALE_PATHS[0])
        languages = [code for code, _ in settings.LANGUAGES if code != "en"]
        if options["update"]:
            self._extract(locale_dir, languages)
            for po_path in _catalogues(locale_dir, languages):
                polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
                self.stdout.write(f"compiled {po_path.relative_to(locale_dir.parent)}")
            return
        problems = self._problems(locale_dir, languages)
        if problems:
            raise CommandError("translations incomplete:\n  " + "\n  ".join(problems))
        self.stdout.write("translations complete and compiled")

    def _extract(self, locale_dir: Path, languages: list[str]) -> None:
        for domain in DOMAINS:
            call_command(
                "makemessages",
                locale=languages,
                domain=domain,
                ignore_patterns=IGNORED,
                no_location=True,
                no_obsolete=True,
                verbosity=0,
            )

    def _problems(self, locale_dir: Path, languages: list[str]) -> list[str]:
        problems = []
        catalogues = _catalogues(locale_dir, languages)
        # makemessages writes to a locale/ folder in the working directory rather than to
        # LOCALE_PATHS when there is one: what it wrote is read from wherever it went, and
        # the catalogues are left as they were found.
        as_found = {path: path.read_bytes() for path in catalogues if path.exists()}
        with tempfile.TemporaryDirectory() as scratch:
            fresh_dir = Path(scratch) / "locale"
            shutil.copytree(locale_dir, fresh_dir)
            extracted = {}
            try:
                with override_settings(LOCALE_PATHS=[fresh_dir]):
                    self._extract(fresh_dir, languages)
                for path in catalogues:
                    written = path.read_bytes() if path.exists() else b""
                    if written == as_found.get(path):
                        written = (fresh_dir / path.relative_to(locale_dir)).read_bytes()
                    extracted[path] = written
            finally:
                for path, content in as_found.items():
                    path.write_bytes(content)
            for po_path in catalogues:
                name = po_path.relative_to(locale_dir.parent)
                committed = polib.pofile(as_found.get(po_path, b"").decode())
                fresh = polib.pofile(extracted[po_path].decode())
                known = {(entry.msgctxt, entry.msgid) for entry in committed}
                for entry in fresh:
                    if (entry.msgctxt, entry.msgid) not in known:
                        problems.append(f"{name}: not in the catalogue: {entry.msgid!r}")
                for entry in committed:
                    if "fuzzy" in entry.flags or not entry.translated():
                        problems.append(f"{name}: not translated: {entry.msgid!r}")
                mo_path = po_path.with_suffix(".mo")
                compiled = Path(scratch) / "compiled.mo"
                committed.save_as_mofile(str(compiled))
                if not mo_path.exists() or mo_path.read_bytes() != compiled.read_bytes():
                    problems.append(f"{name}: the .mo is not compiled from it (--update)")
        return problems


def _catalogues(locale_dir: Path, languages: list[str]) -> list[Path]:
    return [
        locale_dir / language / "LC_MESSAGES" / f"{domain}.po"
        for language in languages
        for domain in DOMAINS
    ]
