from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from channels_app.contracts import SEND_SURVEY_BATCH_TASK
from inbox import csat, services, task_outbox
from inbox.follow_ups.opening import survey_follow_up_open as follow_up_open
from inbox.follow_ups.queue import FOLLOW_UP_OPEN_TASK
from inbox.notifications import digests as notification_digests
from inbox.services import customer_health
from inbox.sla import breaches as sla_breaches
from inbox.sla import due_soon as sla_due_soon


@shared_task(name="inbox.tasks.conversations_wake_snoozed", ignore_result=True)
def conversations_wake_snoozed() -> int:
    return services.conversations_wake_snoozed()


@shared_task(name=services.AUTO_ASSIGN_TASK, ignore_result=True)
def conversation_auto_assign(conversation_id: int) -> None:
    services.conversation_auto_assign(conversation_id=conversation_id)


@shared_task(name="inbox.tasks.messages_requeue_stuck", ignore_result=True)
def messages_requeue_stuck() -> int:
    return len(
        services.messages_requeue_stuck(
            older_than=timedelta(seconds=settings.DELIVERY_STUCK_AFTER_SECONDS)
        )
    )


@shared_task(name=task_outbox.SWEEP_TASK, ignore_result=True)
def pending_tasks_send_due() -> int:
    return task_outbox.pending_tasks_send_due(
        older_than=timedelta(seconds=settings.OUTBOX_SEND_GRACE_SECONDS)
    )


@shared_task(name=csat.SWEEP_TASK, ignore_result=True)
def csat_surveys_queue_due() -> int:
    # Recorded until the broker takes it: a batch it refuses goes within a minute of its
    # return (beat's outbox sweep), not after CSAT_STALE_SECONDS.
    return csat.csat_surveys_queue_all_due(
        send_batch=lambda survey_ids: task_outbox.task_send_on_commit(
            SEND_SURVEY_BATCH_TASK, [survey_ids]
        )
    )


@shared_task(name="inbox.tasks.reply_idempotency_keys_forget_expired", ignore_result=True)
def reply_idempotency_keys_forget_expired() -> int:
    return services.reply_idempotency_keys_forget_expired()


@shared_task(name=sla_breaches.SWEEP_TASK, ignore_result=True)
def sla_breaches_mark() -> int:
    return sla_breaches.sla_breaches_mark()


@shared_task(name=FOLLOW_UP_OPEN_TASK, ignore_result=True)
def survey_follow_up_open(survey_id: int) -> None:
    follow_up = follow_up_open(survey_id=survey_id)
    if follow_up is not None:
        customer_health.customers_health_refresh(customer_ids=[follow_up.survey.customer_id])


@shared_task(name=customer_health.REFRESH_TASK, ignore_result=True)
def customers_health_refresh_recent() -> int:
    # Twice the interval back, so a late or skipped run leaves no one out.
    since = timezone.now() - timedelta(seconds=2 * settings.HEALTH_REFRESH_SECONDS)
    return customer_health.customers_health_refresh_recent(since=since)


@shared_task(name=sla_due_soon.SWEEP_TASK, ignore_result=True)
def sla_due_soon_notify() -> int:
    return sla_due_soon.sla_due_soon_notify()


@shared_task(name=notification_digests.SWEEP_TASK, ignore_result=True)
def notifications_email_digests_send() -> int:
    return notification_digests.notifications_email_digests_send()
