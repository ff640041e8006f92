import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Production settings use the manifest storage, which needs `collectstatic` first;
    # these tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
