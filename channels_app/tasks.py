from datetime import timedelta

from celery import shared_task
from django.conf import settings

from channels_app import imap_polling, outgoing_webhooks, sender_profiles, services
from channels_app.contracts import (
    DELIVER_MESSAGE_TASK,
    FETCH_MEDIA_TASK,
    FETCH_SENDER_NAME_TASK,
    SEND_SURVEY_BATCH_TASK,
    SEND_SURVEY_TASK,
    SEND_WEBHOOK_DELIVERIES_TASK,
    SETTLE_STALE_SENDING_TASK,
)
from inbox import services as inbox_services
from inbox.outgoing_webhooks.deliveries import webhook_deliveries_queue_due


# A retry is queued as a new task through the outbox (inbox.task_outbox), carrying the
# tries made so far: one the broker does not take then (Redis down) is sent by beat's
# outbox sweep once it is back, where a Celery retry would be lost. Tasks still in a
# broker from before carry no count (0), or count their Celery retries.
@shared_task(bind=True, name=DELIVER_MESSAGE_TASK, ignore_result=True, max_retries=None)
def message_deliver(self, message_id: int, earlier_tries: int = 0) -> None:
    attempt = earlier_tries + self.request.retries + 1
    delay = services.message_deliver(
        message_id=message_id,
        attempt=attempt,
        max_attempts=settings.DELIVERY_MAX_RETRIES + 1,
    )
    if delay is not None:
        inbox_services.task_send_on_commit(
            DELIVER_MESSAGE_TASK, [message_id, attempt], countdown=delay
        )


@shared_task(bind=True, name=FETCH_MEDIA_TASK, ignore_result=True, max_retries=None)
def attachment_fetch_media(self, attachment_id: int, earlier_tries: int = 0) -> None:
    attempt = earlier_tries + self.request.retries + 1
    delay = services.attachment_fetch_media(
        attachment_id=attachment_id,
        attempt=attempt,
        max_attempts=settings.DELIVERY_MAX_RETRIES + 1,
    )
    if delay is not None:
        inbox_services.task_send_on_commit(
            FETCH_MEDIA_TASK, [attachment_id, attempt], countdown=delay
        )


@shared_task(name="channels_app.tasks.attachments_fetch_lost", ignore_result=True)
def attachments_fetch_lost() -> int:
    return services.attachments_fetch_lost(
        older_than=timedelta(seconds=settings.DELIVERY_STUCK_AFTER_SECONDS)
    )


@shared_task(bind=True, name=FETCH_SENDER_NAME_TASK, ignore_result=True, max_retries=None)
def sender_name_fetch(self, channel_id: int, address: str) -> None:
    try:
        sender_profiles.sender_name_fetch(
            channel_id=channel_id, address=address, attempt=self.request.retries + 1
        )
    except sender_profiles.SenderNameAskAgain as again:
        raise self.retry(countdown=again.delay) from again


@shared_task(name="channels_app.tasks.webhook_events_reprocess_failed", ignore_result=True)
def webhook_events_reprocess_failed() -> int:
    return services.webhook_events_reprocess_failed()


# acks_late: a batch whose worker died mid-task is redelivered; the survey's state
# machine (inbox.csat) sends what is still queued and leaves alone what went out.
@shared_task(name=SEND_SURVEY_BATCH_TASK, ignore_result=True, acks_late=True)
def csat_survey_send_batch(survey_ids: list[int]) -> None:
    services.csat_surveys_send(survey_ids=survey_ids)


# One survey a task, as sweeps queued them before batches: kept for tasks still waiting
# in the broker when a worker is upgraded.
@shared_task(name=SEND_SURVEY_TASK, ignore_result=True, acks_late=True)
def csat_survey_send(survey_id: int) -> None:
    services.csat_surveys_send(survey_ids=[survey_id])


@shared_task(name="channels_app.tasks.mailboxes_poll", ignore_result=True)
def mailboxes_poll() -> None:
    for channel_id in imap_polling.mailbox_channels_due():
        mailbox_poll.delay(channel_id)


@shared_task(name="channels_app.tasks.mailbox_poll", ignore_result=True)
def mailbox_poll(channel_id: int) -> int:
    return imap_polling.mailbox_poll_until_drained(channel_id=channel_id)


@shared_task(name=SETTLE_STALE_SENDING_TASK, ignore_result=True)
def messages_settle_stale_sending() -> int:
    return services.messages_settle_stale_sending()


@shared_task(name="channels_app.tasks.personal_data_erase_expired", ignore_result=True)
def personal_data_erase_expired() -> dict[str, int]:
    return services.retention_erase_expired()


# Each delivery is claimed before its attempt: a task run twice sends nothing twice.
@shared_task(name=SEND_WEBHOOK_DELIVERIES_TASK, ignore_result=True)
def webhook_deliveries_send(delivery_ids: list[int]) -> None:
    outgoing_webhooks.webhook_deliveries_send(delivery_ids=delivery_ids)


@shared_task(name="channels_app.tasks.webhook_deliveries_queue_due", ignore_result=True)
def webhook_deliveries_queue_due_now() -> int:
    return webhook_deliveries_queue_due()
