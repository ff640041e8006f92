"""Keeping each customer's stored risk level (the list's "at risk" filter) in step with
the health rules (inbox.selectors.customer_health).

The level is worked out again for the customers who wrote or were written to lately and
for those at risk now (whose signals age out of the windows), by beat every
HEALTH_REFRESH_SECONDS, and at once for a customer whose low score was followed up. The
profile and the API always work it out afresh.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from customers.models import Customer, HealthRisk
from inbox.models import Conversation
from inbox.selectors.customer_health import customers_health

REFRESH_TASK = "inbox.tasks.customers_health_refresh_recent"
BATCH_SIZE = 500


def customers_health_refresh(*, customer_ids: Iterable[int], now: datetime | None = None) -> int:
    """Store the current risk of these customers; returns how many changed."""
    ids = list(customer_ids)
    changed = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        health = customers_health(customer_ids=batch, now=now)
        ids_by_risk: dict[str, list[int]] = defaultdict(list)
        for customer_id, customer_health in health.items():
            ids_by_risk[customer_health.risk].append(customer_id)
        for risk, risk_ids in ids_by_risk.items():
            changed += (
                Customer.objects.filter(pk__in=risk_ids)
                .exclude(health_risk=risk)
                .update(health_risk=risk)
            )
    return changed


def customers_health_refresh_recent(*, since: datetime) -> int:
    """Work the risk out again for customers active since `since` and those at risk."""
    active = Conversation.objects.filter(last_message_at__gte=since).values_list(
        "customer_id", flat=True
    )
    at_risk = Customer.objects.exclude(health_risk=HealthRisk.LOW).values_list("pk", flat=True)
    customer_ids = set(active) | set(at_risk)
    return customers_health_refresh(customer_ids=sorted(customer_ids), now=timezone.now())
