from celery import shared_task

from inbox import services


@shared_task(name="inbox.tasks.conversations_wake_snoozed", ignore_result=True)
def conversations_wake_snoozed() -> int:
    return services.conversations_wake_snoozed()
