"""The public, login-free CSAT survey page: `GET /survey/<token>/`, `POST` rating + comment.

GET never records anything (mail link scanners open every link); `?rating=N` only
pre-selects the choice the customer clicked in their email.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox import csat


def _page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, "inbox/survey.html", context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


# The token in the URL is the credential; a CSRF cookie would only get in the way of
# customers opening the link in a fresh browser.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        survey = csat.csat_survey_get_by_token(token=token)
    except csat.SurveyClosed as closed:
        return _page(request, {"closed": closed.reason}, status=closed.status_code)
    options = csat.csat_settings(survey.conversation.channel)
    context = {
        "survey": survey,
        "question": options["question"],
        "thank_you": options["thank_you"],
        "choices": sorted(csat.RATING_LABELS.items()),
        "company": survey.conversation.channel.name,
    }
    if request.method == "GET":
        chosen = request.GET.get("rating", "")
        context["selected"] = int(chosen) if chosen in {"1", "2", "3", "4", "5"} else survey.rating
        return _page(request, context)

    raw_rating = request.POST.get("rating", "")
    rating = int(raw_rating) if raw_rating in {"1", "2", "3", "4", "5"} else None
    if rating is None and survey.rating is None:
        context["error"] = "Please choose a rating from 1 to 5."
        return _page(request, context, status=400)
    try:
        survey = csat.csat_record_answer(
            survey=survey, rating=rating, comment=request.POST.get("comment", "")
        )
    except csat.SurveyClosed as closed:
        context["error"] = closed.reason
        context["selected"] = survey.rating
        return _page(request, context, status=closed.status_code)
    context.update(survey=survey, answered=True, selected=survey.rating)
    return _page(request, context)
