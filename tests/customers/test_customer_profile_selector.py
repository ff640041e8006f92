"""customer_get_for_profile: the customer and their latest undoable merge."""

import pytest

from customers.selectors import customer_get_for_profile
from customers.services import customer_merge, customer_merge_undo
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_customer_never_merged_into_has_no_latest_merge(django_assert_num_queries):
    customer = CustomerFactory()

    with django_assert_num_queries(4):  # the customer, identities, claims, merges
        found = customer_get_for_profile(customer_id=customer.pk)

    assert found.latest_merge_id is None
    assert found.latest_merge_name is None


def test_the_latest_undoable_merge_is_named_like_the_merged_profile():
    survivor = CustomerFactory(name="Maria Garcia")
    first = customer_merge(survivor=survivor, merged=CustomerFactory(name="Maria G."))
    nameless = CustomerFactory(name="", email="", phone="")
    second = customer_merge(survivor=survivor, merged=nameless)

    found = customer_get_for_profile(customer_id=survivor.pk)
    assert (found.latest_merge_id, found.latest_merge_name) == (
        second.pk,
        f"Customer {nameless.pk}",
    )

    customer_merge_undo(merge=second)
    found = customer_get_for_profile(customer_id=survivor.pk)
    assert (found.latest_merge_id, found.latest_merge_name) == (first.pk, "Maria G.")

    customer_merge_undo(merge=first)
    assert customer_get_for_profile(customer_id=survivor.pk).latest_merge_id is None
