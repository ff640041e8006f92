"""Embedded mode: a Celery worker and beat running as threads of the web process.

The broker is kombu's in-memory transport, so tasks published by this process are
consumed by its own worker thread; countdowns and ETAs are honoured by the worker's
timer exactly as in production. The app is Celery's current one, which the project
package sets up on start-up, so this module needs nothing from it.
"""

import threading

from django.conf import settings

_lock = threading.Lock()
_started = False


def start_embedded_workers(*, with_beat: bool = True) -> None:
    """Start the in-process worker (and beat) once; a no-op outside embedded mode."""
    global _started
    if not settings.IS_EMBEDDED:
        return
    with _lock:
        if _started:
            return
        from celery import current_app
        from celery.beat import EmbeddedService
        from celery.contrib.testing.worker import TestWorkController

        app = current_app._get_current_object()

        worker = TestWorkController(
            app=app,
            concurrency=4,
            pool="threads",
            loglevel="WARNING",
            hostname="embedded@switchboard",
            ready_callback=None,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
        )
        threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
        worker.ensure_started()
        if with_beat:
            beat = EmbeddedService(
                app, thread=True, schedule_filename=str(settings.DATA_DIR / "celerybeat-schedule")
            )
            beat.start()
        _started = True
