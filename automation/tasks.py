from celery import shared_task

from automation import engine, waits
from inbox.rule_events import RULES_RUN_EVENTS_TASK, RULES_RUN_TASK


@shared_task(name=RULES_RUN_TASK, ignore_result=True)
def automation_rules_run(event: dict) -> int:
    return len(engine.automation_rules_run(event=event))


@shared_task(name=RULES_RUN_EVENTS_TASK, ignore_result=True)
def automation_rules_run_events(events: list[dict]) -> int:
    return sum(len(engine.automation_rules_run(event=event)) for event in events)


@shared_task(name=waits.SWEEP_TASK, ignore_result=True)
def automation_waits_sweep() -> int:
    return waits.automation_waits_sweep()
