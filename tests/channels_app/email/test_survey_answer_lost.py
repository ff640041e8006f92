"""A survey mail the SMTP server had whole, but whose answer never came (it timed out after
the message was sent), may have reached the customer: it is left `unknown`, never sent
again. One that failed before the message went out is retried as usual."""

import socket
import threading

import pytest

from channels_app.services import mail_receive
from inbox.models import Conversation, CsatSurvey, Message, MessageStatus, SurveyStatus
from inbox.services import conversation_resolve, message_reply
from tests.channels_app.email.helpers import SUPPORT, customer_mail
from tests.factories import ChannelFactory
from tests.inbox.test_csat import make_due, send_due

pytestmark = pytest.mark.django_db


class StallingSmtpServer:
    """A mail server on loopback that speaks SMTP, then falls silent at DATA: before its
    354 (`after_message=False`, nothing sent) or after taking the whole message."""

    def __init__(self, *, after_message: bool) -> None:
        self.after_message = after_message
        self.messages: list[bytes] = []
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                self._converse(connection)

    def _converse(self, connection: socket.socket) -> None:
        lines = connection.makefile("rb")
        connection.sendall(b"220 stall.test ESMTP\r\n")
        for line in lines:
            command = line[:4].upper()
            if command == b"QUIT":
                connection.sendall(b"221 bye\r\n")
                return
            if command != b"DATA":
                connection.sendall(b"250 ok\r\n")
                continue
            if not self.after_message:
                self.stop.wait(30)
                return
            connection.sendall(b"354 go ahead\r\n")
            body = b"".join(iter(lines.readline, b".\r\n"))
            self.messages.append(body)
            self.stop.wait(30)
            return


@pytest.fixture(params=[True, False], ids=["after the message", "before the message"])
def stalling_server(request):
    server = StallingSmtpServer(after_message=request.param)
    yield server
    server.close()


@pytest.fixture
def survey_due(team, operator, stalling_server, settings):
    settings.EMAIL_TIMEOUT = 0.5
    channel = ChannelFactory(
        kind="email",
        name="Acme Support",
        config={"address": SUPPORT, "smtp_host": "127.0.0.1", "smtp_port": stalling_server.port},
        teams=[team],
    )
    mail_receive(channel=channel, raw=customer_mail()[0])
    conversation = Conversation.objects.get()
    message_reply(conversation=conversation, author=operator, body="Done.")
    Message.objects.filter(author=operator).update(status=MessageStatus.SENT)
    conversation_resolve(conversation=conversation, resolved_by=operator)
    survey = CsatSurvey.objects.get()
    make_due(survey)
    return survey


def test_a_survey_mail_whose_answer_was_lost_is_unknown_and_never_resent(
    survey_due, stalling_server
):
    send_due()

    survey = CsatSurvey.objects.get(pk=survey_due.pk)
    if stalling_server.after_message:
        assert survey.status == SurveyStatus.UNKNOWN
        assert "no answer" in survey.skip_reason
        assert len(stalling_server.messages) == 1
        make_due(survey)
        send_due()
        assert CsatSurvey.objects.get(pk=survey.pk).status == SurveyStatus.UNKNOWN
        assert len(stalling_server.messages) == 1, "the survey went out once"
    else:
        assert survey.status == SurveyStatus.SCHEDULED
        assert stalling_server.messages == []
