"""What the SLA tests share: conversations due at a given time, and sweeps run side by
side (the policy most of them use is the `standard` fixture)."""

import threading
from collections.abc import Callable
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from inbox.models import Conversation
from tests.factories import ConversationFactory


def due_in(channel, policy, minutes: float, **fields) -> Conversation:
    due = timezone.now() + timedelta(minutes=minutes)
    return ConversationFactory(
        channel=channel,
        sla_policy=policy,
        first_response_due_at=due,
        sla_next_due_at=due,
        **fields,
    )


def sweeps_run_at_once(sweep: Callable[..., int], *, threads: int = 3) -> list[int]:
    """Run `sweep` in `threads` threads started together, each on its own connection and
    in small batches until it finds nothing more; what each batch answered."""
    start = threading.Barrier(threads)
    counts: list[int] = []

    def run() -> None:
        try:
            start.wait()
            while count := sweep(batch_size=7):
                counts.append(count)
        finally:
            connection.close()

    running = [threading.Thread(target=run) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(60)
    return counts
