"""An operator's pages in the language they chose (operators/me/), else their browser's."""

from django.http import HttpRequest, HttpResponse
from django.utils import translation

# Paths that are no operator's pages: left to LocaleMiddleware (Accept-Language), and
# request.user is not read for them.
NOT_PAGES = ("/api/", "/webhooks/", "/survey/", "/widget", "/media/", "/static/", "/healthz/")


class OperatorLanguageMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(NOT_PAGES):
            user = request.user
            language = getattr(user, "language", "") if user.is_authenticated else ""
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        # LocaleMiddleware, outside this one, names the language in Content-Language.
        return self.get_response(request)
