"""Reads on customers."""

from contextlib import suppress

from django.db.models import Exists, OuterRef, Q, QuerySet

from customers.models import Customer, Identity, IdentityClaim
from customers.normalization import InvalidIdentityValue, normalize_phone


def customer_list(*, query: str = "") -> QuerySet[Customer]:
    """Live (not merged-away) customers, optionally matching name, email, phone or any identity."""
    customers = Customer.objects.filter(merged_into__isnull=True)
    text = query.strip()
    if not text:
        return customers
    values = {text, text.lower()}
    with suppress(InvalidIdentityValue):
        values.add(normalize_phone(text))
    identity_match = Identity.objects.filter(customer=OuterRef("pk")).filter(
        Q(value__in=values) | Q(value__icontains=text)
    )
    return customers.filter(
        Q(name__icontains=text)
        | Q(email__icontains=text)
        | Q(phone__in=values)
        | Exists(identity_match)
    )


def customer_get_with_identities(*, customer_id: int) -> Customer:
    return Customer.objects.prefetch_related("identities", "claims").get(pk=customer_id)


def claims_for(*, customer: Customer) -> QuerySet[IdentityClaim]:
    return customer.claims.all()
