"""Reads on customers, always through the conversations the user may see."""

from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from customers.models import Customer, Identity, IdentityClaim
from customers.selectors import customer_ids_matching_sql, customer_list
from inbox import json_rows, row_lookups
from inbox.models import Conversation, User
from inbox.representations import CLAIM_ROW_FIELDS, CUSTOMER_ROW_FIELDS, IDENTITY_ROW_FIELDS
from inbox.visibility import bounding_operator_id, channel_ids_visible_to


def customers_visible_to(user: User, *, query: str = "") -> QuerySet[Customer]:
    """Customers the user may see: everyone for supervisors and admins; for an operator,
    those with a conversation in a channel their teams serve."""
    customers = customer_list(query=query)
    channel_ids = channel_ids_visible_to(user)
    if channel_ids is None:
        return customers
    return customers.filter(
        Exists(Conversation.objects.filter(customer=OuterRef("pk"), channel_id__in=channel_ids))
    )


def customer_rows_for_user(
    *, user: User, query: str = "", health_risk: str | None = None
) -> QuerySet[Any]:
    """customers_visible_to as rows of CUSTOMER_ROW_FIELDS, of the stored risk level when
    given; a page of it read, customer_rows_complete adds identities and claims."""
    customers = customers_visible_to(user, query=query)
    if health_risk is not None:
        customers = customers.filter(health_risk=health_risk)
    return customers.values(*CUSTOMER_ROW_FIELDS)


def customer_rows_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds each row's identities (their IDENTITY_ROW_FIELDS) and claims (their
    CLAIM_ROW_FIELDS): two queries for any number of rows."""
    customer_ids = [row["id"] for row in rows]
    identities = row_lookups.grouped(
        row_lookups.rows_where_in(
            Identity,
            ("customer", *IDENTITY_ROW_FIELDS),
            key="customer",
            values=customer_ids,
            order_by="id",
        )
    )
    claims = row_lookups.grouped(
        row_lookups.rows_where_in(
            IdentityClaim,
            ("customer", *CLAIM_ROW_FIELDS),
            key="customer",
            values=customer_ids,
            order_by="id",
        )
    )
    for row in rows:
        row["identities"] = identities.get(row["id"], [])
        row["claims"] = claims.get(row["id"], [])
    return rows


def customer_json_rows_for_user(
    *, user: User, query: str = "", health_risk: str | None = None
) -> json_rows.JsonRows | None:
    """customer_rows_for_user with each row written as its public JSON by PostgreSQL (see
    inbox.json_rows); None on other databases."""
    if connection.vendor != "postgresql":
        return None
    # As customer_list reads the query.
    text = query.replace("\x00", "").strip()
    return json_rows.customer_json_rows(
        operator_id=bounding_operator_id(user),
        matching=customer_ids_matching_sql(text=text) if text else None,
        health_risk=health_risk,
    )
