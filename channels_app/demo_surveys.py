"""`make demo`'s survey history: a channel that asks CES after a contact, and the past
weeks' answered CES and NPS surveys, so the NPS and CES reports have something to show;
and a few that never reached their customers, each with its reason, so the reports show
that gap too.

Each conversation comes in, is answered and resolved through the product's own path; the
survey is then marked sent back then and answered, as its customer would have.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from channels_app import services as channel_services
from channels_app.contracts import InboundIdentity, InboundMessage
from channels_app.models import Channel
from inbox import csat
from inbox import services as inbox_services
from inbox.models import Conversation, CsatSurvey, SurveyReason, SurveyStatus, User

DEMO_CES_CHANNEL = "Demo app (CES)"

# sender, name, language, question, operator, kind, answer, comment, days ago
SURVEY_HISTORY = [
    ("h-1", "Lucía Fernández", "en", "How do I reset my password?", "anna", "ces", 7,
     "Two clicks, great.", 20),
    ("h-2", "Tom Baker", "en", "Can I merge two orders?", "ben", "ces", 3,
     "I had to explain it three times.", 16),
    ("h-3", "Ирина Петрова", "ru", "Как поменять адрес доставки?", "anna", "ces", 6, "", 11),
    ("h-4", "Marta Kowalska", "pl", "Gdzie jest moja faktura?", "ben", "ces", 5, "", 6),
    ("h-5", "Lucas Martin", "en", "The parcel arrived damaged.", "anna", "nps", 4,
     "Third broken parcel this year.", 18),
    ("h-6", "Eva Novak", "en", "Do you sell gift cards?", "ben", "nps", 10,
     "Always helpful.", 13),
    ("h-7", "Omar Haddad", "en", "Is there a student discount?", "anna", "nps", 8, "", 9),
    ("h-8", "Сергей Волков", "ru", "Можно оплатить частями?", "ben", "nps", 9, "", 4),
]  # fmt: skip

# sender, name, question, operator, kind, status, reason code, its words, days ago
NOT_REACHED = [
    ("n-1", "Ahmed Karim", "Where is my refund?", "anna", "ces", SurveyStatus.SKIPPED,
     SurveyReason.WINDOW_CLOSED, "outside Messenger's messaging window (24 hours)", 15),
    ("n-2", "Julia Weber", "Can I change my plan?", "ben", "ces", SurveyStatus.SKIPPED,
     SurveyReason.NO_TEMPLATE, "outside WhatsApp's 24-hour customer service window and the "
     "channel has no approved survey template (survey_template) to send instead", 12),
    ("n-3", "Paolo Rossi", "Invoice address wrong", "anna", "nps", SurveyStatus.SKIPPED,
     SurveyReason.UNREACHABLE, "the customer cannot be reached on this channel", 8),
    ("n-4", "Nina Berg", "App crashes on login", "ben", "ces", SurveyStatus.FAILED,
     SurveyReason.PLATFORM_ERROR, "callback URL answered 500", 3),
]  # fmt: skip


def seed_survey_history(team) -> None:
    """Runs once: the CES channel and its history are made together."""
    if Channel.objects.filter(name=DEMO_CES_CHANNEL).exists():
        return
    channel = channel_services.channel_create(
        kind="api",
        name=DEMO_CES_CHANNEL,
        config={
            "secret": "demo-ces-secret",
            "callback_url": f"{settings.PUBLIC_BASE_URL}/demo/api-callback/",
        },
        csat={"kind": "ces"},
    )
    channel.teams.set([team])
    operators = {user.username: user for user in User.objects.filter(username__in={"anna", "ben"})}
    now = timezone.now()
    for sender, name, language, text, username, kind, answer, comment, days in SURVEY_HISTORY:
        conversation = _answered_and_resolved(
            channel, operators[username], sender, name, text, language=language
        )
        sent_at = now - timedelta(days=days)
        # The NPS ones stand for the relationship survey asked in place of that contact's.
        CsatSurvey.objects.filter(conversation=conversation).update(
            kind=kind,
            status=SurveyStatus.SENT,
            language=language,
            sent_at=sent_at,
            expires_at=now + timedelta(days=7),
        )
        csat.csat_record_answer(
            survey=CsatSurvey.objects.get(conversation=conversation),
            rating=answer,
            comment=comment,
        )
    for sender, name, text, username, kind, status, code, words, days in NOT_REACHED:
        conversation = _answered_and_resolved(channel, operators[username], sender, name, text)
        CsatSurvey.objects.filter(conversation=conversation).update(
            kind=kind,
            status=status,
            reason_code=code,
            skip_reason=words,
            due_at=now - timedelta(days=days),
        )


def _answered_and_resolved(
    channel, operator, sender: str, name: str, text: str, *, language: str = ""
):
    inbox_services.message_receive(
        channel=channel,
        inbound=InboundMessage(
            external_id=f"demo-{sender}",
            recipient_address=sender,
            identities=(InboundIdentity(kind="api", value=f"{channel.public_id}:{sender}"),),
            sender_name=name,
            sender_language=language,
            text=text,
        ),
    )
    conversation = Conversation.objects.get(channel=channel, recipient_address=sender)
    inbox_services.conversation_assign(conversation=conversation, operator=operator)
    inbox_services.message_reply(
        conversation=conversation, author=operator, body="Done, thanks for asking!"
    )
    inbox_services.conversation_resolve(conversation=conversation, resolved_by=operator)
    return conversation
