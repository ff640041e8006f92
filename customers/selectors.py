"""Reads on customers."""

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import RawSQL

from customers.models import Customer, CustomerMerge, Identity, IdentityClaim
from customers.normalization import InvalidIdentityValue, normalize_phone
from customers.plain_sql import converted, fetch_all, quoted_column, quoted_table


def customer_list(*, query: str = "") -> QuerySet[Customer]:
    """Live (not merged-away) customers, optionally matching name, email, phone or any identity."""
    customers = Customer.objects.filter(merged_into__isnull=True)
    # PostgreSQL text cannot hold NUL; nothing stored contains one.
    text = query.replace("\x00", "").strip()
    if not text:
        return customers
    return customers.filter(pk__in=RawSQL(*customer_ids_matching_sql(text=text)))


def sql_column(model: type[Model], field: str) -> str:
    """The model's table and a field's column, quoted, as `table.column`."""
    column = cast(Field, model._meta.get_field(field)).column or ""
    return f"{connection.ops.quote_name(model._meta.db_table)}.{connection.ops.quote_name(column)}"


def _lookup_sql(lookup: str, column: str) -> str:
    # As Django writes the lookup: the column's cast and the backend's operator.
    operators: dict[str, str] = connection.operators  # type: ignore[attr-defined]
    return f"{connection.ops.lookup_cast(lookup) % column} {operators[lookup]}"


def sql_contains(column: str, text: str) -> tuple[str, list[Any]]:
    """`column` contains `text`, whatever the case: the SQL Django writes for icontains, so
    that the indexes made for it (trigram indexes on `UPPER(column::text)`) answer it."""
    return _lookup_sql("icontains", column), [f"%{connection.ops.prep_for_like_query(text)}%"]


def _sql_equals_ignoring_case(column: str, text: str) -> tuple[str, list[Any]]:
    return _lookup_sql("iexact", column), [connection.ops.prep_for_iexact_query(text)]


def customer_ids_matching_sql(*, text: str) -> tuple[str, list[Any]]:
    """SQL (and its parameters) selecting the ids of customers, merged-away ones included,
    whose name or email contains the text, whose phone is it, or with an identity
    containing it or the phone number it spells.

    A union of lookups, each answered by an index of its own on PostgreSQL (trigram
    indexes for the substrings): over conditions on two tables OR-ed together it could use
    none and read every customer. Written out: composing it through the ORM cost more
    Python time than the rest of a search request."""
    phones = list(dict.fromkeys([text, text.lower()]))
    name, name_params = sql_contains(sql_column(Customer, "name"), text)
    email, email_params = sql_contains(sql_column(Customer, "email"), text)
    identity, identity_params = sql_contains(sql_column(Identity, "value"), text)
    with suppress(InvalidIdentityValue):
        phone = normalize_phone(text)
        phones.append(phone)
        # Case-insensitive like the substring match, so that the same index answers it.
        same_phone, same_phone_params = _sql_equals_ignoring_case(
            sql_column(Identity, "value"), phone
        )
        identity, identity_params = (
            f"{identity} OR {same_phone}",
            identity_params + same_phone_params,
        )
    customers, identities = (
        connection.ops.quote_name(model._meta.db_table) for model in (Customer, Identity)
    )
    return (
        f"SELECT {sql_column(Customer, 'id')} FROM {customers} WHERE {name} OR {email} "
        f"OR {sql_column(Customer, 'phone')} IN ({', '.join(['%s'] * len(phones))}) "
        f"UNION SELECT {sql_column(Identity, 'customer')} FROM {identities} WHERE {identity}",
        [*name_params, *email_params, *phones, *identity_params],
    )


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


def customer_language(*, customer_id: int) -> str:
    """The customer's own language, "" when neither a platform nor an operator said."""
    return Customer.objects.filter(pk=customer_id).values_list("language", flat=True).first() or ""


def identity_customer_language(*, kind: str, value: str) -> str:
    """The own language of the customer who has this identity; "" when not known."""
    return (
        Identity.objects.filter(kind=kind, value=value)
        .values_list("customer__language", flat=True)
        .first()
        or ""
    )


def identity_client_info(*, kind: str, value: str) -> dict[str, object]:
    """What the app of the person with this identity can show, as the platform last said
    (VK's client_info); {} when it never said."""
    client_info = (
        Identity.objects.filter(kind=kind, value=value)
        .values_list("client_info", flat=True)
        .first()
    )
    return client_info if isinstance(client_info, dict) else {}


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


@dataclass(frozen=True)
class KnownIdentity:
    id: int
    customer: Customer
    is_reachable: bool
    # What the platform last showed of the person (see Identity).
    avatar_url: str
    client_info: dict


# The identity's own columns identities_known reads, before the customer's.
_IDENTITY_FIELDS = ("id", "kind", "value", "is_reachable", "avatar_url", "client_info")


def identities_known(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], KnownIdentity]:
    """Which of these (kind, normalized value) identities exist, each with its customer: one
    plain statement, as every inbound message asks it (customers.plain_sql)."""
    if not pairs:
        return {}
    fields = _customer_fields()
    rows = fetch_all(
        _identities_known_query(len(pairs)), [value for pair in pairs for value in pair]
    )
    width = len(_IDENTITY_FIELDS)
    identities = converted(Identity, _IDENTITY_FIELDS, [row[:width] for row in rows])
    customers = converted(Customer, fields, [row[width:] for row in rows])
    return {
        (kind, value): KnownIdentity(
            id=identity_id,
            customer=Customer.from_db(connection.alias, fields, customer_values),
            is_reachable=bool(is_reachable),
            avatar_url=avatar_url,
            client_info=client_info or {},
        )
        for (
            identity_id,
            kind,
            value,
            is_reachable,
            avatar_url,
            client_info,
        ), customer_values in zip(identities, customers, strict=True)
    }


@cache
def _customer_fields() -> list[str]:
    return [field.attname for field in Customer._meta.concrete_fields]


@cache
def _identities_known_query(count: int) -> str:
    i = {field: quoted_column(Identity, field) for field in _IDENTITY_FIELDS}
    identity_columns = ", ".join(f"i.{i[field]}" for field in _IDENTITY_FIELDS)
    customer_columns = ", ".join(
        f"c.{quoted_column(Customer, field)}" for field in _customer_fields()
    )
    # Each pair answered from the unique index on (kind, value).
    pairs = " OR ".join([f"(i.{i['kind']} = %s AND i.{i['value']} = %s)"] * count)
    return (
        f"SELECT {identity_columns}, {customer_columns} "
        f"FROM {quoted_table(Identity)} i JOIN {quoted_table(Customer)} c "
        f"ON c.{quoted_column(Customer, 'id')} = i.{quoted_column(Identity, 'customer')} "
        f"WHERE {pairs}"
    )
