"""Reads on customers."""

from contextlib import suppress

from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, NullIf

from customers.models import Customer, CustomerMerge, Identity, IdentityClaim
from customers.normalization import InvalidIdentityValue, normalize_phone


def customer_list(*, query: str = "") -> QuerySet[Customer]:
    """Live (not merged-away) customers, optionally matching name, email, phone or any identity."""
    customers = Customer.objects.filter(merged_into__isnull=True)
    # PostgreSQL text cannot hold NUL; nothing stored contains one.
    text = query.replace("\x00", "").strip()
    if not text:
        return customers
    return customers.filter(pk__in=customer_ids_matching(text=text))


def customer_ids_matching(*, text: str) -> QuerySet:
    """Ids of customers (merged-away ones included) whose name or email contains the text,
    whose phone is it, or who have an identity containing it (or the phone number it
    spells). Each part is answered by an index of its own on PostgreSQL (trigram indexes
    for the substrings), which one query over OR-ed conditions could not use."""
    values = {text, text.lower()}
    identity_match = Q(value__icontains=text)
    with suppress(InvalidIdentityValue):
        phone = normalize_phone(text)
        values.add(phone)
        # Case-insensitive like the substring match, so that the same index answers it.
        identity_match |= Q(value__iexact=phone)
    by_profile = Customer.objects.filter(
        Q(name__icontains=text) | Q(email__icontains=text) | Q(phone__in=values)
    ).values("pk")
    by_identity = Identity.objects.filter(identity_match).values("customer_id")
    return by_profile.union(by_identity)


def customer_get_with_identities(*, customer_id: int) -> Customer:
    return Customer.objects.prefetch_related("identities", "claims").get(pk=customer_id)


def claims_for(*, customer: Customer) -> QuerySet[IdentityClaim]:
    return customer.claims.all()


def customer_get_for_profile(*, customer_id: int) -> Customer:
    """The customer with identities and claims, plus `latest_merge_id` and
    `latest_merge_name`: the newest merge into them that can still be undone (None if
    none), read in the same query as the customer."""
    latest_merge = CustomerMerge.objects.filter(
        survivor=OuterRef("pk"), undone_at__isnull=True
    ).order_by("-created_at", "-id")
    merged_name = Coalesce(
        NullIf("merged__name", Value("")),
        NullIf("merged__email", Value("")),
        NullIf("merged__phone", Value("")),
        Concat(Value("Customer "), Cast("merged_id", CharField())),
        output_field=CharField(),
    )
    return (
        Customer.objects.prefetch_related("identities", "claims")
        .annotate(
            latest_merge_id=Subquery(latest_merge.values("pk")[:1]),
            latest_merge_name=Subquery(
                latest_merge.annotate(display_name=merged_name).values("display_name")[:1]
            ),
        )
        .get(pk=customer_id)
    )


def customer_contact_email(*, customer_id: int) -> str:
    """Where to write to the customer by email: the profile's address, else the latest
    email they gave on any channel (vouched for or merely typed into a form); never an
    address whose mail bounced as undeliverable."""
    dead = set(
        Identity.objects.filter(
            customer_id=customer_id, kind="email", is_reachable=False
        ).values_list("value", flat=True)
    )
    email = Customer.objects.filter(pk=customer_id).values_list("email", flat=True).first()
    if email and email.strip().lower() not in dead:
        return email
    for model in (Identity, IdentityClaim):
        latest = (
            model.objects.filter(customer_id=customer_id, kind="email")
            .exclude(value__in=dead)
            .order_by("-id")
            .values_list("value", flat=True)
            .first()
        )
        if latest:
            return latest
    return ""
