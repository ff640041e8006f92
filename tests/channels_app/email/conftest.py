"""Email test fixtures: a channel that sends through a local SMTP sink."""

import pytest

from tests.channels_app.email.helpers import SUPPORT
from tests.factories import ChannelFactory


@pytest.fixture
def email_channel(team, smtp_sink):
    return ChannelFactory(
        kind="email",
        name="Acme Support",
        config={
            "address": SUPPORT,
            "company_name": "Acme",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
        },
        teams=[team],
    )
