"""The public, login-free survey page: `GET /survey/<token>/`, `POST` rating + comment.

It asks the survey's own kind (CSAT 1-5, CES 1-7, NPS 0-10) and takes only that scale.

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
from inbox import csat, nps, survey_kinds
from inbox.nps_settings import nps_settings_get


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
    scale = survey_kinds.scale_of(survey.kind)
    labels = scale.labels(language)
    context = {
        "survey": survey,
        "scale": scale,
        "question": csat.survey_question(options, language, kind=survey.kind),
        "comment_question": _comment_question(survey, language),
        "thank_you": csat.survey_text(options, "thank_you", language),
        "choices": sorted(labels.items()),
        # Labels only where the scale names its values (NPS names its two ends).
        "labelled_choices": len(scale.value_labels) == len(labels),
        "lowest_label": labels[scale.lowest],
        "highest_label": labels[scale.highest],
        "company": channel.name,
    }
    if request.method == "GET":
        context["selected"] = _value_on(scale, request.GET.get("rating", ""), survey.rating)
        return _page(request, context, language=language)

    raw_rating = request.POST.get("rating", "")
    rating = _value_on(scale, raw_rating, None)
    if (raw_rating or survey.rating is None) and rating is None:
        with translation.override(language):
            context["error"] = _("Please choose a rating from %(lowest)s to %(highest)s.") % {
                "lowest": scale.lowest,
                "highest": scale.highest,
            }
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


def _value_on(scale: survey_kinds.SurveyScale, raw: str, default: int | None) -> int | None:
    """The number in `raw` if it is on the scale, else `default`."""
    if raw.isascii() and raw.isdigit() and len(raw) <= 2 and scale.contains(int(raw)):
        return int(raw)
    return default


def _comment_question(survey, language: str) -> str:
    """NPS asks for the reason of the score, when the settings say so; "" for the default
    label."""
    if survey.kind == survey_kinds.NPS.kind and nps_settings_get().follow_up:
        return nps.nps_follow_up_question(language)
    return ""
