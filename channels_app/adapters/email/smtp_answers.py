"""Django's SMTP backend, told apart: a mail server that fell silent (or dropped the
connection) after it had the whole message may have accepted it, unlike one that failed
before. Sending again could give the customer the mail twice where its Message-ID is new
each time (a survey); the sender then treats the outcome as unknown."""

import smtplib

from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend


class MailAnswerLost(smtplib.SMTPException):
    """No answer came for a message the server had whole (the terminating dot was sent)."""


class _MessageNoting:
    """An smtplib connection that knows when the message itself went on the wire, and does
    not wait again (for QUIT's answer) on a server that already left it without one."""

    is_message_sent = False
    is_answer_lost = False

    def send(self, s):
        super().send(s)  # type: ignore[misc]
        # DATA's payload is the only bytes written, and always ends with the lone dot.
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.is_message_sent = True

    def data(self, msg):
        self.is_message_sent = False
        try:
            return super().data(msg)  # type: ignore[misc]
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            if not self.is_message_sent:
                raise
            self.is_answer_lost = True
            raise MailAnswerLost(f"no answer after the message was sent: {error!r}") from error

    def quit(self):
        if self.is_answer_lost:
            self.close()  # type: ignore[attr-defined]
            return None
        return super().quit()  # type: ignore[misc]


class _SMTP(_MessageNoting, smtplib.SMTP):
    pass


class _SMTPOverSSL(_MessageNoting, smtplib.SMTP_SSL):
    pass


class EmailBackend(DjangoSmtpBackend):
    @property
    def connection_class(self):
        return _SMTPOverSSL if self.use_ssl else _SMTP
