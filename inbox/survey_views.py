"""The public, login-free CSAT survey page: `GET /survey/<token>/`, `POST` rating + comment.

GET never records anything (mail link scanners open every link); `?rating=N` only
pre-selects the choice the customer clicked in their email. The page speaks the
survey's language; `?lang=` switches it.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.languages import supported_language
from inbox import csat


def _page(request: HttpRequest, context: dict, *, language: str, status: int = 200) -> HttpResponse:
    with translation.override(language):
        context = {
            **context,
            "language": language,
            "languages": settings.LANGUAGES,
        }
        response = render(request, "inbox/survey.html", context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Language"] = language
    return response


# The token in the URL is the credential; a CSRF cookie would only get in the way of
# customers opening the link in a fresh browser.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    chosen_language = supported_language(request.GET.get("lang"))
    try:
        survey = csat.csat_survey_get_by_token(token=token)
    except csat.SurveyClosed as closed:
        language = chosen_language or translation.get_language() or settings.LANGUAGE_CODE
        return _page(
            request, {"closed": closed.reason}, language=language, status=closed.status_code
        )
    channel = survey.conversation.channel
    language = (
        chosen_language
        or supported_language(survey.language)
        or csat.survey_language(customer_language=survey.customer.language, channel=channel)
    )
    options = csat.csat_settings(channel)
    context = {
        "survey": survey,
        "question": csat.survey_text(options, "question", language),
        "thank_you": csat.survey_text(options, "thank_you", language),
        "choices": sorted(csat.rating_labels(language).items()),
        "company": channel.name,
    }
    if request.method == "GET":
        chosen = request.GET.get("rating", "")
        context["selected"] = int(chosen) if chosen in {"1", "2", "3", "4", "5"} else survey.rating
        return _page(request, context, language=language)

    raw_rating = request.POST.get("rating", "")
    rating = int(raw_rating) if raw_rating in {"1", "2", "3", "4", "5"} else None
    if rating is None and survey.rating is None:
        with translation.override(language):
            context["error"] = _("Please choose a rating from 1 to 5.")
        return _page(request, context, language=language, status=400)
    try:
        survey = csat.csat_record_answer(
            survey=survey, rating=rating, comment=request.POST.get("comment", "")
        )
    except csat.SurveyClosed as closed:
        context["error"] = closed.reason
        context["selected"] = survey.rating
        return _page(request, context, language=language, status=closed.status_code)
    context.update(survey=survey, answered=True, selected=survey.rating)
    return _page(request, context, language=language)
