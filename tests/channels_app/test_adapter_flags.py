"""What the webhook edge relies on of every registered channel kind."""

import pytest

from channels_app.registry import ADAPTERS


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_a_kind_with_an_answer_of_its_own_stays_off_the_batched_path(kind):
    # The batched fast path answers in JSON only, and checks takes_batched_path alone.
    adapter = ADAPTERS[kind]
    if adapter.accepted_answer is not None:
        assert not adapter.takes_batched_path
