from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from automation import web_urls as automation_web_urls
from automation.api import urls as automation_api_urls
from channels_app import api as channel_api
from channels_app import personal_data_api, webhooks
from channels_app import webhook_subscriptions_api as webhook_api
from channels_app.widget import views as widget_views
from config.health import health
from inbox.api import urls as inbox_api_urls
from inbox.media_views import AttachmentFileApi
from inbox.survey_views import survey_page
from inbox.web import urls as inbox_web_urls
from inbox.web.sign_in_views import AdminPasswordStepView

handler400 = "inbox.api.errors.json_bad_request"
handler404 = "inbox.api.errors.json_not_found"
handler500 = "inbox.api.errors.json_server_error"

api_patterns = [
    *inbox_api_urls.urlpatterns,
    *automation_api_urls.urlpatterns,
    path("channels/", channel_api.ChannelListApi.as_view(), name="channel-list"),
    path(
        "channels/<int:channel_id>/", channel_api.ChannelDetailApi.as_view(), name="channel-detail"
    ),
    path(
        "customers/<int:customer_id>/erase/",
        personal_data_api.CustomerEraseApi.as_view(),
        name="customer-erase",
    ),
    path("webhooks/", webhook_api.WebhookListApi.as_view(), name="webhook-list"),
    path(
        "webhooks/<int:webhook_id>/", webhook_api.WebhookDetailApi.as_view(), name="webhook-detail"
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        webhook_api.WebhookDeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/<uuid:delivery_id>/redeliver/",
        webhook_api.WebhookRedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
    path(
        "webhooks/<int:webhook_id>/test/", webhook_api.WebhookTestApi.as_view(), name="webhook-test"
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("healthz/", health, name="health"),
    # The admin's sign-in page with the product's second step (before the admin's own).
    path("admin/login/", AdminPasswordStepView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
    path("webhooks/<str:kind>/<uuid:public_id>/", webhooks.webhook, name="webhook"),
    path("survey/<str:token>/", survey_page, name="csat-survey"),
    # The operators' scripts' texts in the page's language (gettext() in their modules).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("widget.js", widget_views.widget_loader, name="widget-loader"),
    path("widget/<uuid:public_id>/uploads/", widget_views.widget_upload, name="widget-upload"),
    path("media/<path:path>", AttachmentFileApi.as_view(), name="attachment-file"),
]

if settings.IS_EMBEDDED:
    from channels_app.demo_views import (
        api_callback_sink,
        graph_api_stand_in,
        viber_api_stand_in,
        vk_api_stand_in,
        webhook_receiver,
    )

    urlpatterns += [
        path("demo/api-callback/", api_callback_sink, name="demo-api-callback"),
        path("demo/webhook-receiver/", webhook_receiver, name="demo-webhook-receiver"),
        path("demo/vk/method/<str:method>", vk_api_stand_in, name="demo-vk-api"),
        path("demo/viber/pa/<str:name>", viber_api_stand_in, name="demo-viber-api"),
        path("demo/graph/<path:path>", graph_api_stand_in, name="demo-graph-api"),
    ]

# The operator web pages come last so that every route above wins.
urlpatterns.append(path("", include(automation_web_urls)))
urlpatterns.append(path("", include(inbox_web_urls)))
