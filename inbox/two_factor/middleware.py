"""Sessions that a role's two-step requirement does not accept are signed out, so
that such a user can do nothing until they sign in again with both steps."""

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from inbox.two_factor.sign_in import session_meets_two_factor_requirement


class TwoFactorRequirementMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.TWO_FACTOR_REQUIRED_ROLES and not session_meets_two_factor_requirement(
            request.user, request.session
        ):
            # Pages then send them to the sign-in page; the API answers as to anyone.
            logout(request)
        return self.get_response(request)
