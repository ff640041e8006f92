import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from channels_app.widget.consumer import WidgetConsumer  # noqa: E402
from config.webhook_asgi import (  # noqa: E402
    FastWebhookApplication,
    MiddlewareFreeASGIHandler,
    PathPrefixRouter,
)
from inbox.consumers import InboxConsumer  # noqa: E402
from inbox.websocket_auth import (  # noqa: E402
    AllowedHostsBrowserOriginValidator,
    TokenOrSessionAuthMiddlewareStack,
)

websocket_routes = URLRouter([path("ws/inbox/", InboxConsumer.as_asgi())])

application = ProtocolTypeRouter(
    {
        "http": PathPrefixRouter(
            prefix="/webhooks/",
            matched=FastWebhookApplication(regular=MiddlewareFreeASGIHandler()),
            default=django_asgi_application,
        ),
        "websocket": URLRouter(
            [
                # Sites embed the widget: it checks Origin against its channel's own
                # allowed origins and needs no operator session.
                path("ws/widget/<uuid:public_id>/", WidgetConsumer.as_asgi()),
                re_path(
                    r"^(?!ws/widget/)",
                    AllowedHostsBrowserOriginValidator(
                        TokenOrSessionAuthMiddlewareStack(websocket_routes)
                    ),
                ),
            ]
        ),
    }
)
