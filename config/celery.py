import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.celeryd_init.connect
def _plain_connections_in_forked_workers(conf=None, options=None, **kwargs) -> None:
    """Celery closes Django's connection pool after every task in prefork children (a
    pool's threads do not survive a fork), so there a pool would only add its start-up to
    each task; a child runs one task at a time and takes a plain connection instead."""
    pool = str((options or {}).get("pool_cls") or (conf.worker_pool if conf else "prefork"))
    if "prefork" in pool or "processes" in pool:
        from django.conf import settings

        settings.DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
