import pytest

from inbox.models import SlaPolicy


@pytest.fixture
def standard(db):
    """The SLA policy most SLA tests put conversations under."""
    return SlaPolicy.objects.create(name="Standard", first_response_minutes=60)
