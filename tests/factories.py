import factory
from django.utils import timezone

from channels_app.models import Channel
from customers.models import Customer, Identity
from inbox.models import (
    CannedResponse,
    Conversation,
    Label,
    Message,
    MessageDirection,
    MessageStatus,
    Role,
    Team,
    User,
)

API_SECRET = "test-channel-secret"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"operator{n}")
    first_name = factory.Faker("first_name")
    role = Role.OPERATOR
    password = factory.PostGenerationMethodCall("set_password", "password123")

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)
        if create:
            self.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        skip_postgeneration_save = True

    kind = "api"
    name = factory.Sequence(lambda n: f"API channel {n}")
    config = factory.LazyFunction(lambda: {"callback_url": "http://127.0.0.1:9/unused"})

    @factory.post_generation
    def secret(self, create, extracted, **kwargs):
        self.set_secrets({"secret": extracted or API_SECRET})
        if create:
            self.save()

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    kind = "email"
    value = factory.Sequence(lambda n: f"identity{n}@example.com")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    customer = factory.SubFactory(CustomerFactory)
    channel = factory.SubFactory(ChannelFactory)
    recipient_address = factory.Sequence(lambda n: f"sender-{n}")
    last_message_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.SelfAttribute("conversation.channel")
    direction = MessageDirection.INBOUND
    body = factory.Faker("sentence")
    status = MessageStatus.RECEIVED
    external_id = factory.Sequence(lambda n: f"ext-{n}")


WEBCHAT_ORIGIN = "https://shop.example.com"
WEBCHAT_IDENTITY_SECRET = "test-identity-secret"


class WebchatChannelFactory(ChannelFactory):
    kind = "webchat"
    name = factory.Sequence(lambda n: f"Website chat {n}")
    config = factory.LazyFunction(
        lambda: {
            "allowed_origins": [WEBCHAT_ORIGIN],
            "company_name": "Shop",
            "greeting": "Hi! How can we help?",
            "offline_message": "We are away; we answer within a day.",
        }
    )

    @factory.post_generation
    def secret(self, create, extracted, **kwargs):
        self.set_secrets({"identity_secret": extracted or WEBCHAT_IDENTITY_SECRET})
        if create:
            self.save()


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"label-{n}")
    color = "#2563eb"


class CannedResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedResponse
        django_get_or_create = ("shortcut",)

    shortcut = factory.Sequence(lambda n: f"reply-{n}")
    is_shared = True
    body = "Thank you, {{customer.first_name}}!"
