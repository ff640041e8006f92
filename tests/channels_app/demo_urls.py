"""The site's routes with the demo's stand-ins, which only embedded mode serves by itself."""

from django.urls import path

from channels_app.demo_views import api_callback_sink, viber_api_stand_in, vk_api_stand_in
from config.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("demo/api-callback/", api_callback_sink),
    path("demo/vk/method/<str:method>", vk_api_stand_in),
    path("demo/viber/pa/<str:name>", viber_api_stand_in),
    *site_urlpatterns,
]
