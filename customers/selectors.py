"""Reads on customers."""

from contextlib import suppress

from django.db.models import Q, QuerySet

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


def customer_get_for_profile(*, customer_id: int) -> Customer:
    """The customer with identities and claims, plus `latest_merge_id` and
    `latest_merge_name`: the newest merge into them that can still be undone (None if
    none). The merge is read apart: composed into the customer's query as subqueries it
    cost three times the Python time of a query of its own."""
    customer = Customer.objects.prefetch_related("identities", "claims").get(pk=customer_id)
    latest_merge = (
        CustomerMerge.objects.filter(survivor_id=customer_id, undone_at__isnull=True)
        .order_by("-created_at", "-id")
        .values_list("pk", "merged_id", "merged__name", "merged__email", "merged__phone")
        .first()
    )
    customer.latest_merge_id = None  # type: ignore[attr-defined]
    customer.latest_merge_name = None  # type: ignore[attr-defined]
    if latest_merge:
        merge_id, merged_id, name, email, phone = latest_merge
        customer.latest_merge_id = merge_id  # type: ignore[attr-defined]
        # Named as the merged profile names itself.
        merged = Customer(pk=merged_id, name=name, email=email, phone=phone)
        customer.latest_merge_name = str(merged)  # type: ignore[attr-defined]
    return customer


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
