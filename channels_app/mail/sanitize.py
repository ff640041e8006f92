"""Making mail HTML safe to show, and reading text out of it."""

from __future__ import annotations

import html as html_entities
import re
import secrets
from html.parser import HTMLParser

import nh3

from channels_app.mail.charsets import without_lone_surrogates

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup",
        "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "i", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
# Whole subtrees dropped, text included: their content is code or a frame, never prose.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "title", "iframe", "object", "embed", "noscript", "template", "svg"}
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"align", "dir", "lang", "style", "title", "valign", "width", "height"},
    "a": {"href", "name"},
    "img": {"src", "alt", "data-remote-src", "border"},
    "blockquote": {"type", "cite"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing"},
    "td": {"colspan", "rowspan", "nowrap"},
    "th": {"colspan", "rowspan", "nowrap"},
    "ol": {"start", "type"},
    "col": {"span"},
    "colgroup": {"span"},
}
# Only properties that cannot fetch anything: no background, no url(), no positioning tricks.
ALLOWED_STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "font", "font-family", "font-size", "font-style",
        "font-weight", "text-align", "text-decoration", "line-height", "margin", "margin-left",
        "margin-right", "margin-top", "margin-bottom", "padding", "padding-left",
        "padding-right", "padding-top", "padding-bottom", "border", "border-left",
        "border-collapse", "width", "height", "vertical-align", "white-space", "direction",
    }
)  # fmt: skip
URL_SCHEMES = frozenset({"http", "https", "mailto", "cid"})
LINK_REL = "noopener noreferrer nofollow"
REMOTE_URL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
CID_URL = re.compile(r"^\s*cid:", re.IGNORECASE)
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
# Real mail nests a few dozen levels; the HTML parsers slow down quadratically on
# thousands, which hostile mail can send.
MAXIMUM_NESTING = 200
MAXIMUM_QUOTE_PREFIXES = 10


def sanitize_html(html: str) -> str:
    """Allowlisted HTML: no scripts, no handlers, no frames; remote images kept inert.

    A remote image keeps its address in ``data-remote-src`` so the interface can offer to
    load it; nothing is fetched (tracking pixels stay silent). ``cid:`` images are kept.
    """
    if not html:
        return ""
    html = flatten_deep_nesting(without_lone_surrogates(html))
    placeholder_prefix = f"cid:sb-remote-{secrets.token_hex(8)}-"
    remote_sources: list[str] = []

    def filter_attribute(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "data-remote-src":
            return None  # only the sanitiser itself may set it
        if tag != "img" or attribute != "src":
            return value
        if CID_URL.match(value):
            return value.strip()
        if REMOTE_URL.match(value):
            remote_sources.append(value.strip())
            return f"{placeholder_prefix}{len(remote_sources) - 1}"
        return None

    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=filter_attribute,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        filter_style_properties=set(ALLOWED_STYLE_PROPERTIES),
        strip_comments=True,
    )
    for index, source in enumerate(remote_sources):
        cleaned = cleaned.replace(
            f'src="{placeholder_prefix}{index}"',
            f'data-remote-src="{html_entities.escape(source, quote=True)}"',
        )
    return cleaned.strip()


def flatten_deep_nesting(html: str) -> str:
    """The document with every tag below MAXIMUM_NESTING levels removed (text kept)."""
    depth = 0
    pieces: list[str] = []
    kept_until = 0
    for match in TAG.finditer(html):
        is_closing, name = match.group(1) == "/", match.group(2).lower()
        if name in VOID_TAGS or match.group(0).endswith("/>"):
            continue
        if is_closing:
            is_too_deep = depth > MAXIMUM_NESTING
            depth = max(0, depth - 1)
        else:
            depth += 1
            is_too_deep = depth > MAXIMUM_NESTING
        if is_too_deep:
            pieces.append(html[kept_until : match.start()])
            kept_until = match.end()
    if not pieces:
        return html
    pieces.append(html[kept_until:])
    return "".join(pieces)


BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
INVISIBLE_TAGS = frozenset(DROPPED_WITH_CONTENT | {"head"})
VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"})


class _TextExtractor(HTMLParser):
    """Collects visible text; blockquote content is prefixed with "> " like a plain reply."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.hidden_depth = 0
        self.preformatted_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            self._handle_void(tag)
            return
        if tag in INVISIBLE_TAGS:
            self.hidden_depth += 1
            return
        if tag in BLOCK_TAGS:
            self._break_line()
        if tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.preformatted_depth += 1
        elif tag == "li":
            self.current.append("- ")
        elif tag in {"td", "th"}:
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            self._handle_void(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in INVISIBLE_TAGS:
            self.hidden_depth = max(0, self.hidden_depth - 1)
            return
        if tag in BLOCK_TAGS:
            self._break_line()
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag == "pre":
            self.preformatted_depth = max(0, self.preformatted_depth - 1)

    def handle_data(self, data: str) -> None:
        if self.hidden_depth:
            return
        if self.preformatted_depth:
            chunks = data.split("\n")
            self.current.append(chunks[0])
            for chunk in chunks[1:]:
                self._break_line(keep_empty=True)
                self.current.append(chunk)
            return
        self.current.append(re.sub(r"\s+", " ", data.replace("\xa0", " ")))

    def _handle_void(self, tag: str) -> None:
        if self.hidden_depth:
            return
        if tag == "br":
            self._break_line(keep_empty=True)
        elif tag == "hr":
            self._break_line()

    def _break_line(self, keep_empty: bool = False) -> None:
        line = "".join(self.current)
        line = line.rstrip() if self.preformatted_depth else line.strip()
        self.current = []
        if not line and not keep_empty:
            return
        prefix = "> " * min(self.quote_depth, MAXIMUM_QUOTE_PREFIXES)
        self.lines.append(f"{prefix}{line}".rstrip() if line else prefix.rstrip())

    def text(self) -> str:
        self._break_line()
        joined = "\n".join(self.lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML mail; quoted blocks come out as "> " lines."""
    if not html:
        return ""
    extractor = _TextExtractor()
    try:
        extractor.feed(flatten_deep_nesting(html))
        extractor.close()
    except Exception:  # HTMLParser is lenient, but a text fallback beats losing the mail
        return re.sub(r"<[^>]*>", " ", html_entities.unescape(html)).strip()
    return extractor.text()
