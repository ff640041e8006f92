"""A Content-Security-Policy on the product's own pages: scripts only from this site (the
pages carry no inline script; a JSON data block is not run), so markup that slipped into
a page (a customer's text, an email's HTML) cannot run anything."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Django's admin and the API's documentation pages are third-party pages with scripts of
# their own making: they keep their own rules.
_OTHER_PAGES = ("/admin/", "/api/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if (
            policy
            and response.get("Content-Type", "").startswith("text/html")
            and not request.path_info.startswith(_OTHER_PAGES)
        ):
            response.headers.setdefault("Content-Security-Policy", policy)
        return response
