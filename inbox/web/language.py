"""An operator's pages in the language they chose (operators/me/), else their browser's."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

# Paths that are no operator's pages: left to LocaleMiddleware (Accept-Language), and
# request.user is not read for them.
NOT_OPERATORS = ("/webhooks/", "/survey/", "/widget", "/media/", "/static/", "/healthz/")
API = "/api/"


def browser_language(headers: dict[bytes, bytes]) -> str:
    """The first of the product's languages a handshake's Accept-Language asks for, else
    LANGUAGE_CODE (as LocaleMiddleware chooses for a page)."""
    accepted = headers.get(b"accept-language", b"").decode("latin-1")
    for code, _quality in parse_accept_lang_header(accepted):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def is_operator_request(request: HttpRequest) -> bool:
    """Whether the request is an operator's: a page, or the API with the session."""
    if request.path.startswith(NOT_OPERATORS):
        return False
    # The inbox's scripts call the API with the session: their error details follow
    # the operator's choice too. Token clients say theirs with Accept-Language, and
    # their requests never load a session here.
    return not request.path.startswith(API) or settings.SESSION_COOKIE_NAME in request.COOKIES


class OperatorLanguageMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_operator_request(request):
            user = request.user
            language = getattr(user, "language", "") if user.is_authenticated else ""
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        # LocaleMiddleware, outside this one, names the language in Content-Language.
        return self.get_response(request)
