"""A stand-in for a customer's system in the demo: accepts the API channel's replies."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def api_callback_sink(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"id": f"demo-{request.headers.get('X-Switchboard-Signature', '')[-12:]}"})
