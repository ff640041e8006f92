import gc
import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_wsgi_application = get_wsgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver, path, re_path  # noqa: E402

from channels_app.webhook_edge import (  # noqa: E402
    FastWebhookApplication,
    PathPrefixRouter,
    RequestBodyLimit,
)
from channels_app.widget.consumer import WidgetConsumer  # noqa: E402
from config.request_limits import public_body_limit  # noqa: E402
from config.wsgi_threads import WsgiOnThreads  # noqa: E402
from inbox.consumers import InboxConsumer  # noqa: E402
from inbox.websocket_auth import BrowserOriginValidator, OperatorAuthMiddleware  # noqa: E402


async def _refuse_handshake(scope, receive, send) -> None:
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 4404})


# Refuses the handshake of a socket path nothing serves (the router would raise). Typed
# loosely: Django's stubs expect views in routes, channels takes ASGI apps.
websocket_not_found: Any = _refuse_handshake


def operator_socket(consumer: Any) -> Any:
    """Browser sockets from this site's pages only; the user from a token or the session."""
    return BrowserOriginValidator(OperatorAuthMiddleware(consumer))


# Pages, the API and the webhooks' regular path: Django's WSGI application on a fixed set
# of threads, each keeping at most one database connection of the process's pool.
django_http_application = WsgiOnThreads(django_wsgi_application, threads=settings.WEB_THREADS)

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(
            PathPrefixRouter(
                prefix="/webhooks/",
                matched=FastWebhookApplication(regular=django_http_application),
                default=django_http_application,
            ),
            limit_for=public_body_limit,
        ),
        "websocket": URLRouter(
            [
                # Sites embed the widget: it checks Origin against its channel's own
                # allowed origins and needs no operator session.
                path("ws/widget/<uuid:public_id>/", WidgetConsumer.as_asgi()),
                re_path(r"^ws/widget/", websocket_not_found),
                # Routed here, not by a router of their own behind the middlewares: one
                # frame and one copy of the scope less per socket, for as long as it is open.
                path("ws/inbox/", operator_socket(InboxConsumer.as_asgi())),
                re_path(r"", operator_socket(websocket_not_found)),
            ]
        ),
    }
)


def _freeze_startup_objects() -> None:
    """Keep what start-up loaded (Django, every view module) out of the garbage
    collector's full passes: over ~110k long-lived objects such a pass paused a worker
    for ~60 ms now and then, the largest share of the webhook-to-inbox p99."""
    get_resolver().url_patterns  # noqa: B018 - imports every view module now
    gc.collect()
    gc.freeze()


_freeze_startup_objects()
