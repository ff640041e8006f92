"""Limits the server process itself enforces, before the application buffers anything."""

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from channels_app.widget.consumer import MAX_FRAME_BYTES
from tests.factories import WEBCHAT_ORIGIN, WebchatChannelFactory

pytestmark = [pytest.mark.real_services, pytest.mark.django_db(transaction=True)]


def test_a_widget_frame_over_the_limit_closes_the_socket_at_the_transport(live_server_url, team):
    webchat = WebchatChannelFactory(teams=[team])
    url = live_server_url.replace("http://", "ws://") + f"/ws/widget/{webchat.public_id}/"

    with connect(url, origin=WEBCHAT_ORIGIN, open_timeout=5, max_size=None) as socket:
        socket.send('{"type": "ping"}')
        assert '"pong"' in socket.recv(timeout=5)
        socket.send('{"type": "ping", "padding": "' + "x" * MAX_FRAME_BYTES + '"}')
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
