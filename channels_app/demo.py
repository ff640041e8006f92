"""Demo data for `make demo`: people (one with two-step sign-in), a team, API and email
channels, the messengers (demo_messengers) and a few conversations.

Customers and messages go in through the same path as real webhooks, so the demo
shows the product as it behaves.
"""

import base64
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from automation.demo import automation_demo_macros_seed, automation_demo_rules_seed
from channels_app import services as channel_services
from channels_app.contracts import (
    ContentItem,
    ContentItemKind,
    InboundIdentity,
    InboundMessage,
)
from channels_app.demo_follow_ups import seed_follow_ups_and_health
from channels_app.demo_labels import seed_labels
from channels_app.demo_messengers import seed_messengers
from channels_app.demo_response_times import seed_response_history
from channels_app.demo_surveys import DEMO_CES_CHANNEL, seed_survey_history
from channels_app.demo_webhooks import seed_webhook
from channels_app.failure_reasons import FailureCode, FailureReason
from channels_app.models import Channel
from inbox import csat, people
from inbox import services as inbox_services
from inbox.models import (
    BusinessHours,
    Conversation,
    ConversationStatus,
    CsatSurvey,
    Message,
    MessageDirection,
    MessageStatus,
    Notification,
    Role,
    SurveyStatus,
    User,
)
from inbox.selectors.business_time import WEEKDAYS
from inbox.sla.administration import business_hours_save, sla_policy_save
from inbox.sla.breaches import sla_breaches_mark
from inbox.two_factor.recovery_codes import recovery_codes_replace

DEMO_PASSWORD = "switchboard-demo"
# Ben signs in with two steps: this key (base32) goes into an authenticator app by hand.
DEMO_TWO_FACTOR_KEY = "SWITCHBOARDDEMO2SWITCHBOARDDEMO2"
DEMO_TWO_FACTOR_USERNAME = "ben"
DEMO_CHANNEL_SECRET = "demo-api-secret"
DEMO_EMAIL_ADDRESS = "support@switchboard.localhost"

# A customer's reply as a mail client writes it: the new text, a signature and the
# quoted history, with an HTML alternative. The inbox shows the new text only.
DEMO_EMAIL = (
    "From: Lena Novak <lena@example.org>\r\n"
    f"To: {DEMO_EMAIL_ADDRESS}\r\n"
    "Subject: Invoice for October\r\n"
    "Message-ID: <demo-lena-1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/alternative; boundary="demo"\r\n'
    "\r\n--demo\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Hello, could you send the October invoice again? The PDF I got is empty.\r\n\r\n"
    "-- \r\nLena Novak\r\nNovak Design s.r.o.\r\n\r\n"
    "On Mon, 2 Nov 2026 at 09:12, Billing <billing@example.com> wrote:\r\n"
    "> Please find your invoice attached.\r\n"
    "\r\n--demo\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n"
    "<p>Hello, could you send the <b>October invoice</b> again? The PDF I got is empty.</p>"
    "<p>-- <br>Lena Novak<br>Novak Design s.r.o.</p>"
    "<blockquote>Please find your invoice attached.</blockquote>\r\n"
    "--demo--\r\n"
).encode()

# The customer who also reacts to the conversation (a content item, not text).
DEMO_REACTION_SENDER = "c-6"

PEOPLE = [
    ("admin", Role.ADMIN, "Ada", "Admin"),
    ("supervisor", Role.SUPERVISOR, "Sam", "Supervisor"),
    ("anna", Role.OPERATOR, "Anna", "Ivanova"),
    ("ben", Role.OPERATOR, "Ben", "Okafor"),
]

CONVERSATIONS = [
    (
        "c-1",
        "Maria Garcia",
        "maria@example.com",
        "+34 612 345 678",
        ["Hi! My order #1042 hasn't arrived yet.", "It was due last Friday."],
        "en",
    ),
    (
        "c-2",
        "Jonas Weber",
        "jonas@example.de",
        None,
        ["Can I change the delivery address of an order that already shipped?"],
        "",
    ),
    (
        "c-3",
        "Aiko Tanaka",
        "aiko@example.jp",
        "+81 90 1234 5678",
        ["The app crashes when I open my invoices."],
        "",
    ),
    (
        "c-4",
        "Maria Garcia",
        "maria@example.com",
        None,
        ["Also, do you ship to the Canary Islands?"],
        "en",
    ),
    (
        "c-5",
        "Ольга Смирнова",
        "olga@example.ru",
        None,
        ["Здравствуйте! Где мой заказ №1077? Обещали доставить в пятницу."],
        "ru",
    ),
    (
        "c-6",
        "Piotr Nowak",
        "piotr@example.pl",
        "+48 601 234 567",
        ["Dzień dobry, czy mogę zwrócić buty kupione w zeszłym tygodniu?"],
        "pl",
    ),
]


def seed_demo() -> list[tuple[str, str]]:
    team = people.team_get_or_create(name="Support")
    logins: list[tuple[str, str]] = []
    for username, role, first, last in PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = people.operator_create(
                username=username,
                role=role,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                # Not at a "switchboard" domain: the password rules refuse a password like
                # the address, and the demo's password is "switchboard-demo".
                email=f"{username}@example.com",
                teams=[team] if role == Role.OPERATOR else [],
            )
        logins.append((role, username))
    # `LANGUAGE_CODE=ru make demo` signs the demo people in to Russian pages, whatever the
    # browser says (an operator's own language wins over Accept-Language).
    demo_language = "" if settings.LANGUAGE_CODE == "en" else settings.LANGUAGE_CODE
    User.objects.filter(username__in=[person[0] for person in PEOPLE]).update(
        language=demo_language
    )
    # Anna works from Moscow: her pages show times there, whatever the browser's zone.
    User.objects.filter(username="anna", time_zone="").update(time_zone="Europe/Moscow")
    _seed_two_factor(User.objects.get(username=DEMO_TWO_FACTOR_USERNAME))

    channel = Channel.objects.filter(name="Demo API").first()
    if channel is None:
        channel = channel_services.channel_create(
            kind="api",
            name="Demo API",
            config={
                "secret": DEMO_CHANNEL_SECRET,
                "callback_url": f"{settings.PUBLIC_BASE_URL}/demo/api-callback/",
            },
        )
        channel.teams.set([team])

    _seed_sla_policies()
    seed_webhook()  # before the conversations: their events fill its delivery log
    automation_demo_rules_seed()
    automation_demo_macros_seed()
    for sender_id, name, email, phone, texts, language in CONVERSATIONS:
        identities = [InboundIdentity(kind="api", value=f"{channel.public_id}:{sender_id}")]
        identities.append(InboundIdentity(kind="email", value=email))
        if phone:
            identities.append(InboundIdentity(kind="phone", value=phone))
        sender = InboundMessage(
            external_id="",
            recipient_address=sender_id,
            identities=tuple(identities),
            sender_name=name,
            sender_language=language,
        )
        for index, text in enumerate(texts):
            inbox_services.message_receive(
                channel=channel,
                inbound=replace(sender, external_id=f"demo-{sender_id}-{index}", text=text),
            )
        if sender_id == DEMO_REACTION_SENDER:
            # Stored as data, read in each operator's language ("Реакция 👍" in Russian).
            reaction = ContentItem(ContentItemKind.REACTION, {"emoji": "👍"})
            inbox_services.message_receive(
                channel=channel,
                inbound=replace(
                    sender, external_id=f"demo-{sender_id}-reaction", content_items=(reaction,)
                ),
            )
    _seed_operator_work(channel)
    _seed_due_times(channel)
    _seed_email(team)
    seed_messengers(team)
    seed_survey_history(team)
    seed_response_history(team)
    seed_follow_ups_and_health(
        team=team, surveyed_channel=Channel.objects.get(name=DEMO_CES_CHANNEL)
    )
    seed_labels()
    # The history's assignments (weeks-old conversations, resolved since) are no news: the
    # bell keeps what an operator would still act on.
    Notification.objects.filter(conversation__status=ConversationStatus.RESOLVED).delete()
    return logins


def _seed_two_factor(user: User) -> None:
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return
    TOTPDevice.objects.create(
        user=user,
        name="Authenticator app",
        confirmed=True,
        key=base64.b32decode(DEMO_TWO_FACTOR_KEY).hex(),
    )
    recovery_codes_replace(user=user)


def _seed_email(team) -> None:
    channel = Channel.objects.filter(kind="email", name="Demo email").first()
    if channel is None:
        channel = channel_services.channel_create(
            kind="email",
            name="Demo email",
            config={"address": DEMO_EMAIL_ADDRESS, "company_name": "Switchboard demo"},
        )
        channel.teams.set([team])
    channel_services.mail_receive(channel=channel, raw=DEMO_EMAIL)


def _seed_operator_work(channel: Channel) -> None:
    """Replies, a note, assignments and a resolved conversation with its survey answered,
    so the inbox and the CSAT report have something to show. Runs once."""
    conversations = {
        conversation.recipient_address: conversation
        for conversation in Conversation.objects.filter(channel=channel).select_related(
            "customer", "channel", "assignee", "team", "resolved_by"
        )
    }
    if Message.objects.filter(channel=channel, direction=MessageDirection.OUTBOUND).exists():
        return
    anna = User.objects.get(username="anna")
    ben = User.objects.get(username="ben")

    maria = conversations["c-1"]
    inbox_services.conversation_assign(conversation=maria, operator=anna)
    inbox_services.message_reply(
        conversation=maria,
        author=anna,
        body="Hi Maria, sorry about the wait! I'm checking with the courier right now.",
    )
    inbox_services.message_reply(
        conversation=maria,
        author=anna,
        body="Courier ticket #88123 opened; they promise an update by 5 pm.",
        is_private=True,
    )
    # A colleague's note that names Anna: a notification in her bell.
    inbox_services.message_reply(
        conversation=maria,
        author=ben,
        body="@anna the courier called back: the parcel is at their depot, out again today.",
        is_private=True,
    )
    inbox_services.conversation_set_priority(conversation=maria, priority="high")
    _seed_failed_reply(maria, anna)

    aiko = conversations["c-3"]
    inbox_services.conversation_assign(conversation=aiko, operator=ben)
    inbox_services.message_reply(
        conversation=aiko,
        author=ben,
        body="Thanks Aiko! Version 2.4.1 fixes the invoice screen; please update the app.",
    )
    inbox_services.conversation_resolve(conversation=aiko, resolved_by=ben)
    # As if the survey went out and Aiko answered it on the survey page.
    survey = CsatSurvey.objects.get(conversation=aiko)
    now = timezone.now()
    CsatSurvey.objects.filter(pk=survey.pk).update(
        status=SurveyStatus.SENT, sent_at=now, expires_at=now + timedelta(days=7)
    )
    survey.refresh_from_db()
    csat.csat_record_answer(survey=survey, rating=5, comment="Quick and clear, thank you!")


def _seed_failed_reply(conversation: Conversation, author: User) -> None:
    """A reply the platform refused: the inbox words why in each operator's language,
    with what the platform said as it came."""
    reply = inbox_services.message_reply(
        conversation=conversation, author=author, body="Here is the courier's tracking page."
    )
    refused = FailureReason.of(
        FailureCode.PLATFORM_REFUSED,
        platform="",
        status=410,
        detail="Gone: this customer's session has ended",
    )
    Message.objects.filter(pk=reply.pk).update(
        status=MessageStatus.FAILED, error=refused.stored(), delivery_attempts=1
    )


def _seed_sla_policies() -> None:
    """An office calendar (Monday to Friday 09:00-18:00 with a lunch break, Christmas Eve
    this year, New Year's Day and Christmas every year) and two policies: urgent
    conversations round the clock, the others in office hours. Set up before the demo's
    conversations open, so that they open under them. Runs once."""
    if BusinessHours.objects.filter(name="Office hours").exists():
        return
    office = business_hours_save(
        business_hours=None,
        name="Office hours",
        time_zone="Europe/Warsaw",
        weekly={day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in WEEKDAYS[:5]},
        holidays=[f"{timezone.now().year}-12-24"],
        yearly_holidays=["01-01", "12-25"],
    )
    sla_policy_save(
        policy=None,
        name="Urgent",
        first_response_minutes=15,
        next_response_minutes=30,
        resolution_minutes=240,
        priorities=["urgent"],
        position=0,
    )
    sla_policy_save(
        policy=None,
        name="Standard",
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=960,
        business_hours=office,
        position=1,
    )


# Minutes from the demo's start to the first answer's due time, by sender.
DEMO_DUE_MINUTES = {"c-2": 8, "c-5": -20, "c-6": 13}


def _seed_due_times(channel: Channel) -> None:
    """Unanswered conversations at the edge of their promise, whatever the hour the demo
    starts, so that the inbox shows each colour of its countdowns beside the calm ones of
    the other channels (an hour of office time): Piotr's first answer is due in thirteen
    minutes (amber; beat warns the operators three minutes later), Jonas's in eight
    (amber, warned at beat's first sweep), and Olga's was due twenty minutes ago (red: the
    sweep marks it breached). Runs once."""
    conversations = Conversation.objects.filter(
        channel=channel, recipient_address__in=DEMO_DUE_MINUTES, first_response_at__isnull=True
    )
    if Conversation.objects.filter(channel=channel, first_response_breached=True).exists():
        return
    now = timezone.now()
    for conversation in conversations:
        due = now + timedelta(minutes=DEMO_DUE_MINUTES[conversation.recipient_address])
        Conversation.objects.filter(pk=conversation.pk).update(
            first_response_due_at=due, sla_next_due_at=due
        )
    sla_breaches_mark()
