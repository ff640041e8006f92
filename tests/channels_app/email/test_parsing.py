"""The email parser against a corpus of real-world-shaped messages, plus its building blocks."""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app.mail.charsets import decode_bytes, normalize_charset
from channels_app.mail.headers import decode_header_text, parse_addresses, parse_message_ids
from channels_app.mail.parsing import (
    EmailUnreadable,
    ParsedEmail,
    html_to_text,
    parse_email,
    sanitize_html,
    split_visible_text,
)

CORPUS = Path(__file__).parents[1] / "fixtures" / "email"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))[
    "messages"
]
# A live src attribute pointing off-site (data-remote-src does not count: it loads nothing).
REMOTE_SOURCE = re.compile(r'\ssrc="(?:https?:)?//', re.IGNORECASE)

FORBIDDEN_IN_SANITISED_HTML = (
    "<script", "onload", "onclick", "onmouseover", "javascript:", "<iframe", "<object", "<form",
    "<style", "<svg", "url(", "tracker.example/bg.gif",
)  # fmt: skip


def parse_fixture(name: str) -> ParsedEmail:
    return parse_email((CORPUS / name).read_bytes())


def message(*header_lines: str, body: str = "Hello", charset_bytes: bytes | None = None) -> bytes:
    head = "\r\n".join(header_lines).encode("ascii")
    return head + b"\r\n\r\n" + (charset_bytes if charset_bytes is not None else body.encode())


# --- the corpus -------------------------------------------------------------------------


def test_corpus_is_complete() -> None:
    files = sorted(path.name for path in CORPUS.glob("*.eml"))
    assert len(files) >= 32
    assert files == sorted(EXPECTED)
    assert all(path.stat().st_size < 300_000 for path in CORPUS.glob("*.eml"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_parses_as_expected(name: str) -> None:
    expected = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()

    parsed = parse_email(raw)

    if expected["message_id"] == "synthetic":
        digest = hashlib.sha256(raw).hexdigest()[:32]
        assert parsed.message_id == f"sb-synthetic-{digest}@switchboard.invalid"
    else:
        assert parsed.message_id == expected["message_id"]
    assert parsed.from_address == expected["from_address"]
    assert parsed.from_name == expected["from_name"]
    assert parsed.reply_to_address == expected["reply_to_address"]
    assert parsed.subject == expected["subject"]
    assert expected["visible_contains"] in parsed.text
    if expected["hidden_contains"] is not None:
        assert expected["hidden_contains"] in parsed.full_text
        assert expected["hidden_contains"] not in parsed.text
    assert len(parsed.attachments) == expected["attachments"]
    if "attachment_filenames" in expected:
        assert [item.filename for item in parsed.attachments] == expected["attachment_filenames"]
    assert parsed.is_auto_reply is expected["is_auto_reply"]
    assert list(parsed.in_reply_to) == expected["in_reply_to"]
    assert bool(parsed.own_message_marker) is expected["is_own_message"]
    if "recipients" in expected:
        assert list(parsed.recipients) == expected["recipients"]
    if expected["bounce_original_message_id"] is None:
        assert parsed.bounce is None
    else:
        assert parsed.bounce is not None
        assert parsed.bounce.original_message_id == expected["bounce_original_message_id"]
        if "bounce_recipient" in expected:
            assert parsed.bounce.recipient == expected["bounce_recipient"]
        if "bounce_diagnostic" in expected:
            assert parsed.bounce.diagnostic == expected["bounce_diagnostic"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_invariants(name: str) -> None:
    parsed = parse_fixture(name)

    assert parsed.text, "the visible text falls back to the full text, never empty"
    assert parsed.text.strip() in parsed.full_text or parsed.full_text in parsed.text
    assert "\x00" not in parsed.full_text
    assert "<script" not in parsed.html.lower()
    assert parsed.sent_at is None or parsed.sent_at.tzinfo is not None
    for attachment in parsed.attachments:
        assert attachment.filename
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert attachment.content_type == attachment.content_type.lower()
        assert attachment.content_type not in {"text/plain", "text/html"} or attachment.filename
        assert not attachment.content_id.startswith("<")


def test_inline_images_keep_their_content_id_and_bytes() -> None:
    parsed = parse_fixture("15_outlook_related_cid_images.eml")

    first, second = parsed.attachments
    assert first.content_id == "image001.png@01DB3D77.6A2B1C40"
    assert first.is_inline and second.is_inline
    assert first.content.startswith(b"\x89PNG")
    assert second.filename == "image002.jpg"
    assert 'src="cid:image001.png@01DB3D77.6A2B1C40"' in parsed.html


def test_forwarded_message_attachment_is_the_whole_message() -> None:
    parsed = parse_fixture("13_forwarded_rfc822_attachment.eml")

    (forwarded,) = parsed.attachments
    assert forwarded.content_type == "message/rfc822"
    reparsed = parse_email(forwarded.content)
    assert reparsed.subject == "Invoice question"
    assert "VAT id on invoice 2026-0042" in reparsed.text


def test_calendar_invite_is_one_attachment_with_the_event() -> None:
    parsed = parse_fixture("14_calendar_invite_google.eml")

    (invite,) = parsed.attachments
    assert invite.filename == "invite.ics"
    assert b"SUMMARY:Acme onboarding call" in invite.content


def test_large_attachment_keeps_every_byte() -> None:
    parsed = parse_fixture("28_large_attachment.eml")

    (dump,) = parsed.attachments
    assert len(dump.content) == 150_000
    assert dump.content[:4] == bytes((i * 7919 + (i >> 8) * 31) % 251 for i in range(4))


def test_malformed_message_keeps_headers_after_a_line_without_colon() -> None:
    parsed = parse_fixture("27_malformed_mime.eml")

    assert parsed.recipients == ("support@acme.example",)
    assert parsed.sent_at == datetime(2026, 11, 23, 10, 59, 59, tzinfo=UTC)
    (scan,) = parsed.attachments
    assert scan.content.startswith(b"%PDF-1.4")


def test_reply_to_and_recipients_are_read() -> None:
    parsed = parse_fixture("40_reply_to_differs.eml")

    assert parsed.reply_to_name == "Linda Park"
    assert parsed.sent_at == datetime(2026, 11, 23, 15, 30, tzinfo=UTC) + timedelta(hours=-9)


def test_hostile_html_fixture_is_neutralised() -> None:
    html = parse_fixture("29_html_only_hostile.eml").html

    lowered = html.lower()
    for forbidden in FORBIDDEN_IN_SANITISED_HTML:
        assert forbidden not in lowered
    assert not REMOTE_SOURCE.search(html)
    assert 'data-remote-src="https://tracker.example/open.gif?id=8812"' in html
    assert 'src="cid:logo@customer.example"' in html
    assert "data:image" not in html


# --- empty and arbitrary input -------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   ", b"\r\n\r\n\r\n", b"\n"])
def test_empty_input_is_unreadable(raw: bytes) -> None:
    with pytest.raises(EmailUnreadable):
        parse_email(raw)


def test_bare_text_without_headers_is_read_as_a_body() -> None:
    parsed = parse_email(b"just some words")

    assert parsed.full_text == "just some words"
    assert parsed.message_id.startswith("sb-synthetic-")
    assert parsed.from_address == ""


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_never_raise_anything_but_unreadable(raw: bytes) -> None:
    try:
        parsed = parse_email(raw)
    except EmailUnreadable:
        return
    assert isinstance(parsed, ParsedEmail)
    assert parsed.message_id


HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
     "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Reply-To",
     "Auto-Submitted", "Precedence", "MIME-Version", "X-Autoreply"]
)  # fmt: skip
HEADER_VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["multipart/mixed; boundary=x", "multipart/alternative; boundary=\"\"",
         "text/plain; charset=x-unknown", "text/html; charset=\"utf-8", "message/rfc822",
         "multipart/report; report-type=delivery-status; boundary=b", "base64", "quoted-printable",
         "=?utf-8?B?invalid?=", "=?bogus?Q?=FF=FE?=", "<a@b> <c@d", "\"unterminated <x@y>",
         "attachment; filename*=utf-8''%FF%FE", "attachment; filename*0*=x''a; filename*2=b"]
    ),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12),
    body=st.binary(max_size=600),
)
def test_mail_shaped_garbage_never_raises(headers: list[tuple[str, str]], body: bytes) -> None:
    head = "\r\n".join(f"{name}: {value}" for name, value in headers)
    raw = head.encode("utf-8", errors="surrogateescape") + b"\r\n\r\n" + body
    try:
        parsed = parse_email(raw)
    except EmailUnreadable:
        return
    assert "\x00" not in parsed.full_text + parsed.text + parsed.subject + parsed.from_name
    parsed.full_text.encode("utf-8")
    parsed.subject.encode("utf-8")


# --- charsets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "codec"),
    [
        ("cp-1251", "cp1251"),
        ("win-1251", "cp1251"),
        ('"Windows-1252"', "cp1252"),
        ("iso-8859-1", "cp1252"),
        ("UTF8", "utf-8"),
        ("utf-8*en", "utf-8"),
        ("x-unknown", ""),
        ("unknown-8bit", ""),
        ("no-such-charset", ""),
        ("base64", ""),
        ("rot13", ""),
        ("punycode", ""),
        ("utf\x00-8", ""),
        (None, ""),
    ],
)
def test_charset_names_are_normalised(declared: str | None, codec: str) -> None:
    assert normalize_charset(declared) == codec


@pytest.mark.parametrize(
    ("data", "declared", "text"),
    [
        ("Привет, мир".encode("cp1251"), "win-1251", "Привет, мир"),
        ("Привет, мир".encode("koi8-r"), "koi8-r", "Привет, мир"),
        ("Grüße".encode(), "x-unknown", "Grüße"),
        ("Grüße".encode(), None, "Grüße"),
        ("Grüße".encode(), "iso-8859-1", "Grüße"),
        ("Grüße".encode(), "us-ascii", "Grüße"),
        ("Grüße €".encode("cp1252"), "utf-8", "Grüße €"),
        ("“quoted” – dash".encode("cp1252"), "iso-8859-1", "“quoted” – dash"),
        (b"plain ascii", "bogus-charset", "plain ascii"),
        ("Café crème, s'il vous plaît".encode("cp1252"), None, "Café crème, s'il vous plaît"),
        ("€ 100".encode("cp1252"), None, "€ 100"),
        (
            "Заказ не пришёл, верните деньги".encode("cp1251"),
            None,
            "Заказ не пришёл, верните деньги",
        ),
    ],
)
def test_bytes_decode_with_fallbacks(data: bytes, declared: str | None, text: str) -> None:
    assert decode_bytes(data, declared) == text


@pytest.mark.parametrize(
    "declared", ["punycode", "idna", "utf-7", "utf-16", "utf-32-le", "base64", "zlib", "hex"]
)
def test_exotic_codecs_declared_as_charset_never_raise(declared: str) -> None:
    raw = message(
        f"From: =?{declared}?B?AICA/w==?= <a@example.com>",
        f"Content-Type: text/html; charset={declared}",
        charset_bytes=b"<p>\x00\x80\xff+2D8- plain words</p>",
    )

    parsed = parse_email(raw)

    assert "plain words" in parsed.text
    parsed.html.encode("utf-8")


def test_undecodable_bytes_are_replaced_not_raised() -> None:
    decoded = decode_bytes(b"\x81\x8d\x8f\x90\x9d", "utf-8")

    assert isinstance(decoded, str)
    assert decoded


def test_unknown_body_charset_falls_back() -> None:
    raw = message(
        "From: a@example.com",
        "Content-Type: text/plain; charset=x-mac-klingon",
        "Content-Transfer-Encoding: 8bit",
        charset_bytes="Größe passt".encode(),
    )

    assert parse_email(raw).text == "Größe passt"


def test_charsets_that_decode_to_lone_surrogates_are_survivable() -> None:
    raw = message(
        "From: a@example.com",
        "Subject: =?utf-7?Q?+2D8-?=",
        "Content-Type: text/html; charset=utf-7",
        body="<p>broken +2D8- text</p>",
    )

    parsed = parse_email(raw)

    assert parsed.text == "broken \ufffd text"
    assert "\ufffd" in parsed.html
    assert sanitize_html("a\ud800b") == "a\ufffdb"


def test_html_without_declared_charset_uses_its_meta_tag() -> None:
    html = '<html><head><meta charset="windows-1251"></head><body>Счёт оплачен</body></html>'
    raw = message(
        "From: a@example.com",
        "Content-Type: text/html",
        "Content-Transfer-Encoding: 8bit",
        charset_bytes=html.encode("cp1251"),
    )

    assert parse_email(raw).text == "Счёт оплачен"


# --- encoded words and addresses -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("=?utf-8?Q?Caf=C3=A9?=", "Café"),
        ("=?UTF-8?B?0J/RgNC40LLQtdGC?=", "Привет"),
        ("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"),
        ("=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=", "ab"),
        ("=?utf-8?Q?a?= plain =?utf-8?Q?b?=", "a plain b"),
        ("=?UTF-8?Q?=E2=82?= =?UTF-8?Q?=AC?=", "€"),
        ("=?iso-8859-1?q?this=20is=20some=20text?=", "this is some text"),
        ("=?utf-8*en?Q?hello?=", "hello"),
        ("=?x-unknown?B?R3LDvMOfZQ==?=", "Grüße"),
        ("=?utf-8?B?R3LDvMOfZQ?=", "Grüße"),
        ("no encoding at all", "no encoding at all"),
        ("=?broken", "=?broken"),
    ],
)
def test_encoded_words_are_decoded(raw: str, decoded: str) -> None:
    assert decode_header_text(raw) == decoded


def test_encoded_subject_and_display_name_in_a_message() -> None:
    raw = message(
        "From: =?windows-1251?B?zuv84+Ag0ezo8O3u4uA=?= <O.Smirnova@Example.RU>",
        "Subject: =?koi8-r?B?8NLJ18XU?=   =?utf-8?Q?_=E2=80=93_hi?=\r\n\tthere",
    )

    parsed = parse_email(raw)

    assert parsed.from_name == "Ольга Смирнова"
    assert parsed.from_address == "o.smirnova@example.ru"
    assert parsed.subject == "Привет – hi there"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Doe, John" <John@Example.com>', [("Doe, John", "john@example.com")]),
        ("=?utf-8?Q?Doe=2C_Jane?= <jane@example.com>", [("Doe, Jane", "jane@example.com")]),
        ("a@example.com, B <b@example.com>", [("", "a@example.com"), ("B", "b@example.com")]),
        ("undisclosed-recipients:;", []),
        ("mailto garbage x@y.example (broken", [("", "x@y.example")]),
    ],
)
def test_addresses_are_split_before_names_are_decoded(
    value: str, expected: list[tuple[str, str]]
) -> None:
    assert parse_addresses(value) == expected


# --- message ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("<abc@example.com>", ("abc@example.com",)),
        ("  <abc@example.com>  ", ("abc@example.com",)),
        ("<a@x>\r\n <b@x>\r\n\t<c@x>", ("a@x", "b@x", "c@x")),
        ("<a@x>,<b@x>", ("a@x", "b@x")),
        ("<a@x> <a@x>", ("a@x",)),
        ("<a@x> (Jane Doe's message of Mon, 23 Nov 2026)", ("a@x",)),
        ("abc@example.com", ("abc@example.com",)),
        ("Your message of 23 Nov <CAF+x=y@mail.gmail.com>", ("CAF+x=y@mail.gmail.com",)),
        ("", ()),
        ("no ids here", ()),
    ],
)
def test_message_ids_are_extracted(value: str, ids: tuple[str, ...]) -> None:
    assert parse_message_ids(value) == ids


def test_references_keep_header_order_and_in_reply_to_is_split() -> None:
    raw = message(
        "From: a@example.com",
        "Message-ID: <own@x>",
        "In-Reply-To: <parent@x> (sent Monday)",
        "References: <root@x> <middle@x>\r\n <parent@x>",
    )

    parsed = parse_email(raw)

    assert parsed.message_id == "own@x"
    assert parsed.in_reply_to == ("parent@x",)
    assert parsed.references == ("root@x", "middle@x", "parent@x")


def test_missing_message_id_gets_a_stable_synthetic_one() -> None:
    raw = message("From: a@example.com", "Subject: no id")

    first, second = parse_email(raw), parse_email(raw)

    assert first.message_id == second.message_id
    assert first.message_id == (
        f"sb-synthetic-{hashlib.sha256(raw).hexdigest()[:32]}@switchboard.invalid"
    )


def test_unparsable_date_is_none() -> None:
    parsed = parse_email(message("From: a@example.com", "Date: sometime last week"))

    assert parsed.sent_at is None


@pytest.mark.parametrize(
    "date",
    [
        "Mon, 1 Jan 2024 10:00:00 +1900",
        "Fri, 31 Dec 9999 23:59:59 -1200",
        "Wed, 1 Jan 1851 00:00:00 +0000",
        "Thu, 1 Jan 1970 00:00:00 +0000",
    ],
)
def test_impossible_dates_are_none(date: str) -> None:
    assert parse_email(message("From: a@example.com", f"Date: {date}")).sent_at is None


def test_dates_are_read_in_utc() -> None:
    parsed = parse_email(message("From: a@example.com", "Date: Mon, 1 Jan 2024 23:30:00 -1100"))

    assert parsed.sent_at == datetime(2024, 1, 2, 10, 30, tzinfo=UTC)
    assert parsed.sent_at.tzinfo is UTC


# --- quote and signature folding -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("Thanks!\n\n> earlier\n> text", "Thanks!"),
        ("Thanks!\n\nOn Mon, 23 Nov 2026 at 10:00, Jane <j@x.example> wrote:\n> q", "Thanks!"),
        ("Thanks!\n\nOn Mon, 23 Nov 2026 at 10:00 AM Jane Doe <\nj@x.example> wrote:\n\n> q",
         "Thanks!"),
        ("Thanks!\n\nOn Mon, Nov 23, 2026 at 10:00 AM Jane Doe\n<j@x.example>\nwrote:\n> q",
         "Thanks!"),
        ("Danke\n\nAm 23.11.2026 um 10:00 schrieb Jane Doe <j@x.example>:\n> q", "Danke"),
        ("Merci\n\nLe 23 nov. 2026 à 10:00, Jane a écrit :\n> q", "Merci"),
        ("Спасибо\n\n23.11.2026 10:00, Иван Петров пишет:\n> q", "Спасибо"),
        ("Спасибо\n\n23 нояб. 2026 г., в 10:00, Иван <i@x.example> написал(а):\n> q", "Спасибо"),
        ("Hi\n\nпн, 23 нояб. 2026 г. в 10:00, Иван Петров <i@x.example>:\n\n> q", "Hi"),
        ("Hi\n\npon., 23 lis 2026 o 10:00 Jan Nowak <j@x.example> napisał(a):\n> q", "Hi"),
        ("Hi\n\nOp ma 23 nov. 2026 om 10:00 schreef Jan <j@x.example>:\n> q", "Hi"),
        ("Hi\n\nDen mån 23 nov. 2026 kl 10:00 skrev Jan <j@x.example>:\n> q", "Hi"),
        ("Hi\n\n-----Original Message-----\nFrom: X\nSent: Y", "Hi"),
        ("Hi\n\n----- Original Message -----\nFrom: X", "Hi"),
        ("Hi\n\n-----Ursprüngliche Nachricht-----\nVon: X", "Hi"),
        ("Hi\n\n________________________________\nFrom: X\nSent: Y", "Hi"),
        ("Hi\n\nFrom: Acme <a@x.example>\nSent: Monday\nTo: me\nSubject: s\n\nold", "Hi"),
        ("Hi\n\n*From:* Acme <a@x.example>\n*Date:* Monday\n\nold", "Hi"),
        ("Hi\n\nОт: Acme\nОтправлено: понедельник\n\nold", "Hi"),
        ("Hi\n\nVon: Acme\nGesendet: Montag\n\nalt", "Hi"),
        ("Hi\n-- \nJane Doe\nACME", "Hi"),
        ("Hi\n--\nJane Doe", "Hi"),
        ("Hi\n\nSent from my iPhone", "Hi"),
        ("Hi\n\nSent from my Android phone", "Hi"),
        ("Hi\n\nGet Outlook for Android<https://aka.ms/ghei36>", "Hi"),
        ("Hi\n\nОтправлено с iPhone", "Hi"),
        ("Hi\n\nVon meinem iPhone gesendet", "Hi"),
    ],
)  # fmt: skip
def test_quoted_history_and_signature_are_folded(text: str, visible: str) -> None:
    assert split_visible_text(text) == visible


@pytest.mark.parametrize(
    "text",
    [
        "On Monday we shipped the order.\nIt should arrive soon.",
        "From: my side everything is fine.\nThanks",
        "Prices went up -- sadly -- again.",
        "a -> b -> c",
        "Sent from my office laptop because the phone app keeps crashing on login.",
        "Sent via DHL yesterday.\nTracking follows.",
        "See the forwarded mail:\n\n---------- Forwarded message ---------\nFrom: A\n> quoted",
    ],
)
def test_ordinary_text_is_not_folded(text: str) -> None:
    assert split_visible_text(text) == text


def test_reply_below_the_quote_is_kept() -> None:
    text = "On Mon, 23 Nov 2026, Jane <j@x.example> wrote:\n> question?\n\nMy answer.\n-- \nsig"

    assert split_visible_text(text) == "My answer."


def test_text_that_is_only_a_quote_falls_back_to_everything() -> None:
    assert split_visible_text("> only quoted\n> lines") == "> only quoted\n> lines"


def test_html_only_message_folds_its_blockquote() -> None:
    html = (
        '<div dir="ltr">Works now.</div><div class="gmail_quote"><div class="gmail_attr">'
        "On Mon, Nov 23, 2026 at 9:00 AM Acme &lt;a@x.example&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote">Try again please.</blockquote></div>'
    )
    raw = message("From: a@example.com", "Content-Type: text/html; charset=utf-8", body=html)

    parsed = parse_email(raw)

    assert parsed.text == "Works now."
    assert "> Try again please." in parsed.full_text


def test_format_flowed_is_joined() -> None:
    raw = message(
        "From: a@example.com",
        "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes",
        body="one long li \r\nne of text\r\n> quoted soft  \r\n> break\r\n-- \r\nsig",
    )

    parsed = parse_email(raw)

    assert parsed.full_text == "one long line of text\n> quoted soft break\n-- \nsig"
    assert parsed.text == "one long line of text"


# --- HTML ----------------------------------------------------------------------------------


def test_sanitizer_removes_scripts_handlers_and_dangerous_urls() -> None:
    cleaned = sanitize_html(
        '<p onclick="x()" style="color:red;background:url(https://t.example/a.gif)">Hi'
        "<script>alert(1)</script></p>"
        '<a href="javascript:alert(1)">a</a><a href="vbscript:x">b</a>'
        '<a href="https://ok.example/">c</a><iframe src="https://evil.example"></iframe>'
        '<img src="x" onerror="alert(1)"><style>p{}</style>'
    )

    assert "script" not in cleaned
    assert "onclick" not in cleaned and "onerror" not in cleaned
    assert "javascript:" not in cleaned and "vbscript:" not in cleaned
    assert "iframe" not in cleaned and "<style" not in cleaned
    assert "url(" not in cleaned
    assert 'style="color:red"' in cleaned
    assert 'href="https://ok.example/"' in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned


def test_sanitizer_makes_remote_images_inert_and_keeps_cid_images() -> None:
    cleaned = sanitize_html(
        '<img src="https://t.example/open.gif?u=1&amp;m=2" width="1">'
        '<img src="HTTP://T.EXAMPLE/A.PNG"><img src="//cdn.example/b.png">'
        '<img src="cid:part1.abc@x.example" alt="logo">'
        '<img data-remote-src="https://forged.example/" src="cid:y">'
        '<img src="data:image/gif;base64,R0lGOD=="><img src="/relative.png">'
    )

    assert not REMOTE_SOURCE.search(cleaned)
    assert 'data-remote-src="https://t.example/open.gif?u=1&amp;m=2"' in cleaned
    assert 'data-remote-src="HTTP://T.EXAMPLE/A.PNG"' in cleaned
    assert 'data-remote-src="//cdn.example/b.png"' in cleaned
    assert 'src="cid:part1.abc@x.example"' in cleaned
    assert "forged.example" not in cleaned
    assert "data:" not in cleaned and "relative.png" not in cleaned


def test_sanitizer_placeholder_cannot_be_forged() -> None:
    cleaned = sanitize_html(
        '<img src="cid:sb-remote-0000000000000000-0"><img src="https://t.example/x">'
    )

    assert cleaned.count("data-remote-src") == 1
    assert 'src="cid:sb-remote-0000000000000000-0"' in cleaned


def test_html_to_text_keeps_structure() -> None:
    text = html_to_text(
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>First&nbsp;line</p><div>Second<br>Third</div><ul><li>one</li><li>two</li></ul>"
        "<script>var hidden = 1;</script>"
        "<blockquote>quoted<blockquote>deeper</blockquote></blockquote>"
        "<pre>  keep\n  spacing</pre></body></html>"
    )

    assert text == (
        "First line\nSecond\nThird\n- one\n- two\n> quoted\n> > deeper\n  keep\n  spacing"
    )


# --- machine-written mail ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header_lines", "is_auto_reply"),
    [
        (["Auto-Submitted: auto-replied"], True),
        (["Auto-Submitted: auto-generated; owner-email=x@y"], True),
        (["Auto-Submitted: no"], False),
        (["X-Autoreply: yes"], True),
        (["X-Autorespond: Out of office"], True),
        (["Precedence: bulk"], True),
        (["Precedence: junk"], True),
        (["Precedence: list", "List-Id: <x.lists.example>"], True),
        (["List-Unsubscribe: <mailto:u@x>"], False),
        (["X-Auto-Response-Suppress: All"], False),
        (["X-Auto-Response-Suppress: OOF"], False),
        (["Subject: Out of Office: Re: order"], True),
        (["Subject: Automatic reply: order"], True),
        (["Subject: Abwesenheitsnotiz: Ihre Anfrage"], True),
        (["Subject: =?utf-8?Q?R=C3=A9ponse_automatique_:_x?="], True),
        (["Subject: =?utf-8?B?0JDQstGC0L7QvtGC0LLQtdGCOiB4?="], True),
        (["Subject: AUTO: Jane Doe is out of the office (returning 30/11/2026)"], True),
        (["Subject: Out of office hours support question"], False),
        (["Subject: Auto: spare parts for my car"], False),
        (["Subject: Re: your automatic reply settings"], False),
        (["Subject: Vacation booking for July"], False),
        (["Subject: Vacation"], False),
        (["Subject: Absence du colis"], False),
        (["Subject: Out of office"], False),
        (["In-Reply-To: <ours@acme.example>", "Subject: Out of office"], True),
        (["References: <ours@acme.example>", "Subject: Vacation: back on Monday"], True),
        (["Return-Path: <>"], True),
        (["In-Reply-To: <ours@acme.example>", "Subject: Re: Out of office hours support"], False),
        (["In-Reply-To: <ours@acme.example>", "Subject: Re: Vacation"], False),
        (
            ["In-Reply-To: <ours@acme.example>", "Subject: Re: My colleague is out of the office"],
            False,
        ),
        (["In-Reply-To: <ours@acme.example>", "Subject: Jane Doe is out of the office"], True),
        (["In-Reply-To: <ours@acme.example>", "Subject: Out of office until Monday"], True),
        (["Return-Path: <bounces@lists.example>"], False),
    ],
)
def test_automatic_mail_is_recognised(header_lines: list[str], is_auto_reply: bool) -> None:
    parsed = parse_email(message("From: a@example.com", *header_lines))

    assert parsed.is_auto_reply is is_auto_reply


def test_read_receipt_report_is_not_a_bounce() -> None:
    raw = message(
        "From: a@example.com",
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"',
        body=(
            "--b\r\nContent-Type: text/plain\r\n\r\nYour message was displayed.\r\n"
            "--b\r\nContent-Type: message/disposition-notification\r\n\r\n"
            "Final-Recipient: rfc822; a@example.com\r\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n"
        ),
    )

    assert parse_email(raw).bounce is None


def delivery_report(*recipient_blocks: str) -> bytes:
    blocks = "\r\n\r\n".join(recipient_blocks)
    return message(
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        "Subject: Delayed Mail (still being retried)",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        body=(
            "--r\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n"
            "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.example.net\r\n\r\n{blocks}\r\n"
            "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            "Message-ID: <sent@acme.example>\r\n--r--\r\n"
        ),
    )


DELAYED_RECIPIENT = "Final-Recipient: rfc822; slow@x.example\r\nAction: delayed\r\nStatus: 4.4.1"


def test_delay_notice_is_automatic_but_not_a_bounce() -> None:
    parsed = parse_email(delivery_report(DELAYED_RECIPIENT))

    assert parsed.bounce is None
    assert parsed.is_auto_reply is True


def test_report_names_the_recipient_that_failed() -> None:
    parsed = parse_email(
        delivery_report(
            DELAYED_RECIPIENT,
            "Final-Recipient: rfc822; gone@x.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown",
        )
    )

    assert parsed.bounce is not None
    assert parsed.bounce.recipient == "gone@x.example"
    assert parsed.bounce.diagnostic == "550 5.1.1 user unknown"
    assert parsed.bounce.original_message_id == "sent@acme.example"


def test_plain_text_delay_warning_is_not_a_bounce() -> None:
    raw = message(
        "From: Mail Delivery System <Mailer-Daemon@relay.example.net>",
        "Subject: Warning: message 1tEq2b-0003Xh-2K delayed 24 hours",
        body=(
            "This message was created automatically by mail delivery software.\r\n"
            "A message that you sent has not yet been delivered to one or more of its\r\n"
            "recipients after more than 24 hours on the queue. It could not be delivered yet.\r\n"
        ),
    )

    assert parse_email(raw).bounce is None


def test_postmaster_mail_without_failure_wording_is_not_a_bounce() -> None:
    raw = message("From: postmaster@example.com", "Subject: Welcome", body="Your mailbox is ready.")

    assert parse_email(raw).bounce is None


def test_a_person_writing_from_postmaster_is_heard() -> None:
    raw = message(
        "From: postmaster@customer.example",
        "Subject: Your mails to us are rejected",
        body="Hi, our users no longer get your invoices. Can you check your SPF record?",
    )

    parsed = parse_email(raw)

    assert parsed.bounce is None and parsed.is_auto_reply is False


def test_own_message_marker_is_detected() -> None:
    raw = message("From: support@acme.example", "X-Switchboard-Message-Id: 42-reply-1")

    assert parse_email(raw).own_message_marker == "42-reply-1"


# --- attachments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ("attachment; filename*=utf-8''C%3A%5CUsers%5Cme%5Creport.pdf", "report.pdf"),
        ('attachment; filename="=?utf-8?B?0YHRh9GR0YIucGRm?="', "счёт.pdf"),
        ("attachment; filename*=iso-8859-1''r%E9sum%E9.txt", "résumé.txt"),
        ("attachment", "attachment-1.bin"),
        ('attachment; filename="..."', "attachment-1.bin"),
    ],
)
def test_attachment_filenames_are_decoded_and_made_safe(disposition: str, filename: str) -> None:
    raw = message(
        "From: a@example.com",
        'Content-Type: multipart/mixed; boundary="b"',
        body=(
            "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            "--b\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Disposition: {disposition}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n"
        ),
    )

    (attachment,) = parse_email(raw).attachments

    assert attachment.filename == filename
    assert attachment.content == b"\x00\x01\x02"


def test_text_attachment_is_not_part_of_the_body() -> None:
    raw = message(
        "From: a@example.com",
        'Content-Type: multipart/mixed; boundary="b"',
        body=(
            "--b\r\nContent-Type: text/plain\r\n\r\nthe body\r\n"
            '--b\r\nContent-Type: text/plain; name="log.txt"\r\n'
            'Content-Disposition: attachment; filename="log.txt"\r\n\r\nERROR 42\r\n--b--\r\n'
        ),
    )

    parsed = parse_email(raw)

    assert parsed.full_text == "the body"
    assert [item.filename for item in parsed.attachments] == ["log.txt"]


# --- hostile shapes ------------------------------------------------------------------------


def test_many_stray_header_lines_are_dropped_in_linear_time() -> None:
    raw = b"From: a@example.com\n" + b"stray line\n" * 20_000 + b"Subject: kept\n\nbody"

    started = time.monotonic()
    parsed = parse_email(raw)

    assert parsed.subject == "kept"
    assert parsed.text == "body"
    assert time.monotonic() - started < 10


def test_absurdly_deep_multipart_nesting_is_cut_off_without_error() -> None:
    levels = b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (level, level + 1)
        for level in range(300)
    )
    raw = b"From: a@example.com\nContent-Type: multipart/mixed; boundary=b0\n\n" + levels

    parsed = parse_email(raw + b"--b300\nContent-Type: text/plain\n\ndeep\n")

    assert parsed.from_address == "a@example.com"


def test_deeply_nested_html_keeps_its_text_and_is_read_in_linear_time() -> None:
    raw = message(
        "From: a@example.com",
        "Content-Type: text/html",
        body="<div>" * 100_000 + "<p>Hello from the bottom</p>" + "</div>" * 100_000,
    )

    started = time.monotonic()
    parsed = parse_email(raw)

    assert parsed.text == "Hello from the bottom"
    assert "Hello from the bottom" in parsed.html
    assert time.monotonic() - started < 10


def test_deep_quotes_are_prefixed_a_bounded_number_of_times() -> None:
    html = "<blockquote>" * 5_000 + "deep"

    assert html_to_text(html).count(">") <= 10


def test_thousands_of_parts_are_read_in_linear_time_and_few_kept() -> None:
    parts = "".join(
        f"--b\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nUID:{index}\r\n"
        "END:VCALENDAR\r\n"
        for index in range(10_000)
    )
    raw = message(
        "From: a@example.com",
        'Content-Type: multipart/mixed; boundary="b"',
        body=f"--b\r\nContent-Type: text/plain\r\n\r\nSee invites\r\n{parts}--b--\r\n",
    )

    started = time.monotonic()
    parsed = parse_email(raw)

    assert parsed.text == "See invites"
    assert len(parsed.attachments) == 100
    assert time.monotonic() - started < 10


def test_huge_reference_and_recipient_lists_are_read_in_linear_time() -> None:
    references = " ".join(f"<r{index}@x.example>" for index in range(40_000))
    recipients = ", ".join(f"u{index}@x.example" for index in range(40_000))
    raw = message("From: a@example.com", f"References: {references}", f"Cc: {recipients}")

    started = time.monotonic()
    parsed = parse_email(raw)

    # The thread's root and the latest ancestors are what threading needs.
    assert parsed.references[0] == "r0@x.example"
    assert parsed.references[-1] == "r39999@x.example"
    assert len(parsed.references) == 200
    assert len(parsed.recipients) == 40_000
    assert time.monotonic() - started < 10


def test_control_characters_never_reach_any_field() -> None:
    raw = (
        b"From: =?utf-8?q?Ma=01ria?= <maria@example.com>\r\nSubject: a\x00b\r\n"
        b"Reply-To: x\x00y <r@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nHi\x00 there\r\n"
        b"--b\r\nContent-Type: image/png\x00; name=p\x02.png\r\nContent-ID: <i\x00d>\r\n\r\n"
        b"x\r\n--b--\r\n"
    )

    parsed = parse_email(raw)

    fields = [
        parsed.from_name, parsed.subject, parsed.reply_to_name, parsed.text,
        *(f"{item.filename}{item.content_type}{item.content_id}" for item in parsed.attachments),
    ]  # fmt: skip
    assert parsed.from_name == "Maria" and parsed.subject == "ab"
    assert parsed.text == "Hi there"
    assert not any(re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value) for value in fields)


@pytest.mark.parametrize(
    ("status", "diagnostic", "is_dead"),
    [
        ("5.1.1", "550 5.1.1 <gone@x.example>: Recipient address rejected: User unknown", True),
        ("5.1.10", "556 5.1.10 Recipient address has null MX", True),
        ("5.2.2", "552 5.2.2 Mailbox full", False),
        (
            "5.1.8",
            "553 5.1.8 <support@acme.example>: Sender address rejected: Domain not found",
            False,
        ),
        (
            "5.7.1",
            "554 5.7.1 <support@acme.example>: Sender address rejected: Access denied",
            False,
        ),
    ],
)
def test_only_a_dead_recipient_address_counts_as_dead(
    status: str, diagnostic: str, is_dead: bool
) -> None:
    parsed = parse_email(
        delivery_report(
            f"Final-Recipient: rfc822; gone@x.example\r\nAction: failed\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; {diagnostic}"
        )
    )

    assert parsed.bounce is not None
    assert parsed.bounce.is_address_dead is is_dead


def test_control_characters_in_a_bounce_diagnostic_are_dropped() -> None:
    parsed = parse_email(
        delivery_report(
            "Final-Recipient: rfc822; gone@x.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user\x00 unknown"
        )
    )

    assert parsed.bounce is not None
    assert parsed.bounce.diagnostic == "550 5.1.1 user unknown"
    assert parsed.bounce.is_address_dead is True


HTML_FRAGMENTS = st.sampled_from(
    ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:x">',
     "<iframe src=//e.example>", "<svg/onload=alert(1)>", "<p style='background:url(//t)'>",
     '<img src="https://t.example/p.gif">', '<img src="cid:a@b">', "</p>", "<div>", "text",
     "<!--", "-->", "<style>", "</style>", '"', "'", "<", ">", "&", "<a href='https://ok'>",
     "<ScRiPt>", "</sCrIpT>", "<object data=x>", "<body onload=x>", "<math><mi xlink:href=x>"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(HTML_FRAGMENTS, max_size=20).map("".join))
def test_sanitised_html_never_carries_active_content(html: str) -> None:
    cleaned = sanitize_html(html).lower()

    assert "<script" not in cleaned and "<iframe" not in cleaned and "<svg" not in cleaned
    assert "javascript:" not in cleaned and "url(" not in cleaned
    assert not re.search(r"<[^>]*\son\w+\s*=", cleaned)
    assert not REMOTE_SOURCE.search(cleaned)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_visible_text_is_never_empty_for_non_blank_text(text: str) -> None:
    visible = split_visible_text(text)

    assert visible.strip() or not text.strip()


def test_text_split_around_an_inline_image_is_joined_in_order() -> None:
    # Apple Mail puts an image between two text/plain parts of a multipart/mixed.
    raw = message(
        "From: a@example.com",
        'Content-Type: multipart/mixed; boundary="apple"',
        body=(
            "--apple\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nBefore the photo.\r\n"
            "--apple\r\nContent-Type: image/jpeg; name=IMG_0042.jpeg\r\n"
            "Content-Disposition: inline; filename=IMG_0042.jpeg\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n"
            "--apple\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAfter the photo.\r\n"
            "--apple--\r\n"
        ),
    )

    parsed = parse_email(raw)

    assert parsed.full_text == "Before the photo.\nAfter the photo."
    assert [(item.filename, item.is_inline) for item in parsed.attachments] == [
        ("IMG_0042.jpeg", True)
    ]


BOUNCE_OPENING = (
    b"From: MAILER-DAEMON@mx.example.com\nTo: support@acme.test\n"
    b"Subject: Undelivered Mail Returned to Sender\n\n"
    b"This is the mail system. Your message could not be delivered.\n"
)


@pytest.mark.parametrize(
    "raw",
    [
        b"From: " + b"a" * 1_000_000 + b"\nSubject: hi\n\nbody",
        BOUNCE_OPENING + b"a" * 1_000_000,
        BOUNCE_OPENING + b"\n" * 1_000_000 + b"x",
        b"From: maria@example.com\nSubject: hi\n\n" + b"x wrote:\n" * 200_000,
    ],
    ids=["long-from-without-at", "bounce-of-letters", "bounce-of-blank-lines", "attributions"],
)
def test_a_megabyte_of_pathological_text_is_read_in_linear_time(raw: bytes) -> None:
    started = time.monotonic()
    parse_email(raw)

    # Quadratic scans took about half an hour on each of these.
    assert time.monotonic() - started < 10
