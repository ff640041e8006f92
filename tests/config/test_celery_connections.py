"""Celery workers and Django's connection pool: a prefork child, which Celery makes close
the pool after every task, takes plain connections; a threaded worker shares the pool."""

import pytest
from django.conf import settings

from config.celery import app as celery_app


@pytest.fixture
def pooled_database():
    options = settings.DATABASES["default"].setdefault("OPTIONS", {})
    before = options.get("pool")
    options["pool"] = {"min_size": 1, "max_size": 6}
    yield options
    if before is None:
        options.pop("pool", None)
    else:
        options["pool"] = before


@pytest.mark.parametrize(("worker_pool", "keeps_pool"), [("prefork", False), ("threads", True)])
def test_a_worker_keeps_the_pool_only_when_its_tasks_share_a_process(
    pooled_database, worker_pool, keeps_pool
):
    celery_app.Worker(pool_cls=worker_pool, quiet=True)

    assert ("pool" in pooled_database) is keeps_pool
