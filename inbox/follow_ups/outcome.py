"""How a follow-up ended: its conversation resolved (by whom, when), or an operator's note."""

from django.db import transaction
from django.utils import timezone

from inbox import realtime
from inbox.follow_ups.models import FollowUpStatus, SurveyFollowUp
from inbox.follow_ups.representation import follow_up_representation
from inbox.models import Conversation, User


def follow_ups_resolve_with(*, conversation: Conversation, resolved_by: User | None) -> int:
    """The conversation was resolved: its open follow-ups are done, by that operator, now.
    Call inside the resolve's transaction; one indexed query when there are none."""
    open_follow_ups = list(
        SurveyFollowUp.objects.select_for_update().filter(
            conversation=conversation, status=FollowUpStatus.OPEN
        )
    )
    for follow_up in open_follow_ups:
        follow_up.status = FollowUpStatus.RESOLVED
        follow_up.resolved_by = resolved_by
        follow_up.resolved_at = timezone.now()
        follow_up.save(update_fields=["status", "resolved_by", "resolved_at"])
        realtime.survey_follow_up_changed(
            follow_up_representation(follow_up), channel_id=conversation.channel_id
        )
    return len(open_follow_ups)


def follow_up_record_outcome(
    *, follow_up: SurveyFollowUp, note: str | None, is_resolved: bool | None, actor: User
) -> SurveyFollowUp:
    """An operator writes down what came of it and/or marks it done (or not done)."""
    with transaction.atomic():
        follow_up = (
            SurveyFollowUp.objects.select_for_update(of=("self",))
            .select_related("conversation")
            .get(pk=follow_up.pk)
        )
        if note is not None:
            follow_up.note = note.strip()[:4000]
        if is_resolved is True and follow_up.status == FollowUpStatus.OPEN:
            follow_up.status = FollowUpStatus.RESOLVED
            follow_up.resolved_by = actor
            follow_up.resolved_at = timezone.now()
        elif is_resolved is False:
            follow_up.status = FollowUpStatus.OPEN
            follow_up.resolved_by = None
            follow_up.resolved_at = None
        follow_up.save()
        if follow_up.conversation is not None:
            realtime.survey_follow_up_changed(
                follow_up_representation(follow_up),
                channel_id=follow_up.conversation.channel_id,
            )
    return follow_up
