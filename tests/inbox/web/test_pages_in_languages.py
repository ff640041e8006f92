"""The operators' pages and the survey page in Russian and Polish: none of the catalogue's
English texts is left on them, plural forms follow each language's rules."""

import re
import zoneinfo
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import timezone, translation

from inbox.models import CsatSurvey, Label, SurveyStatus, Team, User
from inbox.services import conversation_resolve, message_reply
from tests.factories import ConversationFactory, LabelFactory, MessageFactory

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.LOCALE_PATHS[0])
# Names that read the same in every language.
SAME_EVERYWHERE = {"Email", "Telegram", "WhatsApp", "API", "CSAT", "Switchboard", "Status"}


class _Texts(HTMLParser):
    """The text a person reads on a page: text nodes and the attributes read aloud."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder") and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data)


def english_texts_left(html: str, language: str) -> list[str]:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    english = {
        re.sub(r"<[^>]+>", "", entry.msgid).strip()
        for entry in catalogue
        if entry.msgstr != entry.msgid and "%(" not in entry.msgid
    } - SAME_EVERYWHERE
    parser = _Texts()
    parser.feed(html)
    seen = {" ".join(text.split()) for text in parser.texts}
    return sorted(text for text in seen if text in english or text.rstrip(" /") in english)


@pytest.fixture
def busy_inbox(operator, channel):
    conversation = ConversationFactory(channel=channel, assignee=operator)
    MessageFactory(conversation=conversation, body="Где мой заказ?")
    LabelFactory(name="VIP")
    message_reply(conversation=conversation, author=operator, body="Сейчас проверю.")
    resolved = ConversationFactory(channel=channel, assignee=operator)
    MessageFactory(conversation=resolved, body="Dzień dobry")
    message_reply(conversation=resolved, author=operator, body="Gotowe.")
    conversation_resolve(conversation=resolved, resolved_by=operator)
    CsatSurvey.objects.filter(conversation=resolved).update(
        status=SurveyStatus.ANSWERED,
        rating=2,
        comment="Za wolno",
        sent_at=timezone.now(),
        answered_at=timezone.now(),
    )
    return conversation


@pytest.mark.parametrize("language", ["ru", "pl"])
def test_no_english_is_left_on_the_operators_pages(client, supervisor, busy_inbox, language):
    supervisor.language = language
    supervisor.save()
    client.force_login(supervisor)
    pages = {
        "inbox": f"/?conversation={busy_inbox.pk}",
        "conversation": f"/inbox/conversations/{busy_inbox.pk}/",
        "settings": "/settings/",
        "reports": "/reports/csat/",
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert response["Content-Language"] == language
        assert english_texts_left(response.content.decode(), language) == [], name


@pytest.mark.parametrize("language", ["ru", "pl"])
def test_no_english_is_left_on_the_sign_in_and_not_found_pages(client, operator, language):
    sign_in = client.get("/login/", HTTP_ACCEPT_LANGUAGE=language)
    assert english_texts_left(sign_in.content.decode(), language) == []

    operator.language = language
    operator.save()
    client.force_login(operator)
    missing = client.get("/?conversation=999999")
    assert missing.status_code == 404
    assert english_texts_left(missing.content.decode(), language) == []


def test_english_pages_stay_english(client, supervisor, busy_inbox):
    client.force_login(supervisor)
    page = client.get("/reports/csat/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Customer satisfaction" in page and "Needs attention" in page
    # What the language tests above look for, found where it is.
    left = english_texts_left(page, "ru")
    assert {"Customer satisfaction", "Needs attention", "Download CSV"} <= set(left)


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        ("ru", {1: "ответ", 2: "ответа", 5: "ответов", 21: "ответ", 22: "ответа", 25: "ответов"}),
        (
            "pl",
            {1: "odpowiedź", 2: "odpowiedzi", 5: "odpowiedzi", 21: "odpowiedzi",
             22: "odpowiedzi", 25: "odpowiedzi"},
        ),
        ("en", {1: "response", 2: "responses", 5: "responses", 21: "responses"}),
    ],
)  # fmt: skip
def test_counted_phrases_take_each_languages_plural_forms(language, forms):
    singular = "Week of %(week)s: %(csat)s%% CSAT, %(responses)s response"
    plural = "Week of %(week)s: %(csat)s%% CSAT, %(responses)s responses"
    with translation.override(language):
        for count, word in forms.items():
            text = translation.ngettext(singular, plural, count) % {
                "week": "1", "csat": "90", "responses": count,
            }  # fmt: skip
            assert text.endswith(f" {count} {word}"), (count, text)


@pytest.mark.parametrize(
    ("language", "menu"),
    [
        ("ru", ["Без приоритета", "Низкий приоритет", "Средний приоритет", "Высокий приоритет",
                "Срочный приоритет"]),
        ("pl", ["Bez priorytetu", "Niski priorytet", "Średni priorytet", "Wysoki priorytet",
                "Pilny priorytet"]),
        ("en", ["No priority", "Low priority", "Medium priority", "High priority",
                "Urgent priority"]),
    ],
)  # fmt: skip
def test_the_priority_menu_reads_as_whole_phrases(client, operator, busy_inbox, language, menu):
    operator.language = language
    operator.save()
    client.force_login(operator)

    page = client.get(f"/inbox/conversations/{busy_inbox.pk}/").json()["header_html"]

    select = re.search(r'<select id="priority-select".*?</select>', page, re.S)
    assert select is not None
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select.group(0)) == menu


# What a Russian page may show in Latin letters: names, addresses and codes (the
# customers', operators', labels' and channels' own), keys, product names and time zones.
LATIN_ALLOWED = {
    "Switchboard", "CSAT", "CSV", "JSON", "API", "Email", "email", "Ctrl", "Enter", "English",
    "Polski",
}  # fmt: skip


# Latin words, and the phrases and zone names they run into ("Copy link", "Europe/Warsaw").
LATIN_WORDS = re.compile(r"[A-Za-z][A-Za-z'\u2019]+(?:[ ./_-][A-Za-z][A-Za-z'\u2019]*)*")


def latin_texts_left(html: str, data: set[str]) -> list[str]:
    """Texts of a Russian page written in Latin letters that are none of the data shown
    and nothing that reads the same in every language: a text nobody marked."""
    parser = _Texts()
    parser.feed(html)
    left = set()
    for text in parser.texts:
        for word in LATIN_WORDS.findall(text):
            if word in LATIN_ALLOWED or word in data or word in TIME_ZONES:
                continue
            if any(word in value for value in data) or re.fullmatch(r"[A-Z]{1,3}", word):
                continue
            left.add(word)
    return sorted(left)


TIME_ZONES = zoneinfo.available_timezones() | {"localtime"}


def test_no_page_shows_a_text_that_was_never_marked(client, supervisor, busy_inbox):
    supervisor.language = "ru"
    supervisor.save()
    client.force_login(supervisor)
    conversation = busy_inbox
    data = {
        supervisor.username, supervisor.first_name, supervisor.last_name,
        supervisor.display_name, conversation.channel.name, conversation.customer.name,
        conversation.customer.email, *Team.objects.values_list("name", flat=True),
        *Label.objects.values_list("name", flat=True),
        *User.objects.values_list("first_name", flat=True),
        *User.objects.values_list("username", flat=True),
        "Za wolno", "Dzień dobry", "Gotowe",
        # Placeholders a canned response may use, shown as they are typed.
        "customer.name", "customer.first_name", "operator.name",
    }  # fmt: skip
    with translation.override("ru"):
        # A shortcut is typed in Latin letters: so is the example the form shows.
        data.add(translation.pgettext("an example shortcut, Latin letters only", "thanks"))
    pages = {
        "inbox": f"/?conversation={conversation.pk}",
        "settings": "/settings/",
        "reports": "/reports/csat/",
        "sign-in": "/login/",
    }
    for name, url in pages.items():
        page = client.get(url).content.decode()
        assert latin_texts_left(page, data) == [], name
    fragments = client.get(f"/inbox/conversations/{conversation.pk}/").json()
    for name, fragment in fragments.items():
        if isinstance(fragment, str):
            assert latin_texts_left(fragment, data) == [], name
