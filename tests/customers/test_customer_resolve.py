import pytest

from customers.models import Customer, Identity, IdentityClaim
from customers.normalization import InvalidIdentityValue, normalize_identity_value
from customers.services import IdentityEvidence, customer_identify
from tests.channels_app.test_api_webhook import post_webhook
from tests.factories import ChannelFactory
from tests.helpers import api_payload

pytestmark = pytest.mark.django_db


def identified_customer(**evidence):
    return customer_identify(**evidence).customer


@pytest.mark.parametrize(
    ("kind", "raw", "normalized"),
    [
        ("email", "  Maria.Garcia@Example.COM ", "maria.garcia@example.com"),
        ("phone", "+34 612 345 678", "+34612345678"),
        ("phone", "34-612-345-678", "+34612345678"),
        ("phone", "+1 (415) 555-2671", "+14155552671"),
        ("telegram", " 123456 ", "123456"),
    ],
)
def test_identity_values_are_stored_in_one_canonical_form(kind, raw, normalized):
    assert normalize_identity_value(kind, raw) == normalized


@pytest.mark.parametrize(
    ("kind", "raw"), [("email", "not-an-email"), ("phone", "12"), ("api", " ")]
)
def test_invalid_identity_values_are_refused(kind, raw):
    with pytest.raises(InvalidIdentityValue):
        normalize_identity_value(kind, raw)


def test_the_same_email_through_two_channels_is_one_customer(client):
    shop, app = ChannelFactory(name="Shop"), ChannelFactory(name="Mobile app")

    post_webhook(client, shop, api_payload(sender_id="shop-7", email="maria@example.com"))
    post_webhook(
        client, app, api_payload(message_id="a-1", sender_id="app-99", email="MARIA@example.com")
    )

    customer = Customer.objects.get()
    assert customer.conversations.count() == 2
    assert set(customer.identities.values_list("kind", "value")) == {
        ("api", f"{shop.public_id}:shop-7"),
        ("api", f"{app.public_id}:app-99"),
        ("email", "maria@example.com"),
    }


def test_the_same_phone_in_two_spellings_is_one_customer(client):
    shop, app = ChannelFactory(), ChannelFactory()

    post_webhook(client, shop, api_payload(sender_id="s-1", phone="+34 612 345 678"))
    post_webhook(client, app, api_payload(message_id="x", sender_id="a-1", phone="0034612345678"))

    assert Customer.objects.count() == 1
    assert Customer.objects.get().phone == "+34612345678"


def test_the_same_sender_id_on_two_api_channels_is_two_customers(client):
    first, second = ChannelFactory(), ChannelFactory()

    post_webhook(client, first, api_payload(sender_id="42", name="Alice"))
    post_webhook(client, second, api_payload(sender_id="42", name="Bob"))

    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Alice", "Bob"]


def test_an_unverified_claim_is_kept_but_never_merges():
    maria = identified_customer(
        identities=[
            IdentityEvidence("api", "shop:1"),
            IdentityEvidence("email", "maria@example.com"),
        ],
        name="Maria",
    )

    visitor = identified_customer(
        identities=[
            IdentityEvidence("webchat", "visitor-abc"),
            IdentityEvidence("email", "maria@example.com", is_verified=False),
        ],
        name="Someone",
    )

    assert visitor != maria
    assert Identity.objects.get(kind="email").customer == maria
    assert list(IdentityClaim.objects.values_list("customer", "kind", "value")) == [
        (visitor.pk, "email", "maria@example.com")
    ]
    assert not visitor.identities.filter(kind="email").exists()


def test_a_known_identity_of_another_customer_is_not_taken_over():
    maria = identified_customer(identities=[IdentityEvidence("email", "maria@example.com")])
    john = identified_customer(identities=[IdentityEvidence("api", "shop:john")], name="John")

    resolved = identified_customer(
        identities=[
            IdentityEvidence("api", "shop:john"),
            IdentityEvidence("email", "maria@example.com"),
        ]
    )

    assert resolved == john
    assert Identity.objects.get(kind="email").customer == maria


def test_blank_profile_fields_are_filled_from_later_messages():
    customer = identified_customer(identities=[IdentityEvidence("api", "shop:1")])

    identified_customer(
        identities=[IdentityEvidence("api", "shop:1"), IdentityEvidence("phone", "+4915112345678")],
        name="Jonas",
    )

    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Jonas", "+4915112345678")


def test_a_message_needs_one_identity_the_channel_vouches_for():
    with pytest.raises(ValueError):
        identified_customer(
            identities=[IdentityEvidence("email", "x@example.com", is_verified=False)]
        )
