"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the digest tests, with scripted faults.

`MailServer.faults` is consumed one entry per DATA command: "451" answers 451 (try again),
"554" refuses for good, "drop" closes the connection after the message was sent, before any
answer. Accepted messages land in `messages`, parsed with the standard email library.
"""

from __future__ import annotations

import ssl
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class MailServer:
    host: str = "127.0.0.1"
    port: int = 0
    faults: deque[str] = field(default_factory=deque)
    messages: list[Received] = field(default_factory=list)
    data_commands: int = 0
    logins: list[str] = field(default_factory=list)
    password: str | None = None  # when set, AUTH is required and must use it
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.arrived:
            self.data_commands += 1
            fault = self.faults.popleft() if self.faults else None
        if fault == "451":
            return "451 4.3.0 Mailbox busy, try again later"
        if fault == "554":
            return "554 5.7.1 Message refused by policy"
        if fault == "drop":
            server.transport.abort()  # the client never hears whether we took it
            return "250 OK (never heard)"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.arrived:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            self.arrived.notify_all()
        return "250 2.0.0 Queued"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append(f"{mechanism} {auth_data.login.decode()}")
        ok = self.password is not None and auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until `count` messages arrived (True) or `timeout` seconds passed (False)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)


class _Controller(Controller):  # type: ignore[misc]
    """aiosmtpd's controller bound to port 0: the real port is read back from the socket."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def run_mail_server(
    password: str | None = None, tls_context: ssl.SSLContext | None = None
) -> Iterator[MailServer]:
    """The server; `password` requires AUTH, `tls_context` offers STARTTLS with that cert."""
    mail = MailServer(password=password)
    options: dict[str, Any] = {}
    if password is not None:
        options = {
            "authenticator": mail.authenticate,
            "auth_required": False,  # AUTH is offered; required would warn without TLS
            "auth_require_tls": False,  # plain text AUTH, on loopback, in tests only
        }
    if tls_context is not None:
        options["tls_context"] = tls_context
    controller = _Controller(mail, hostname="127.0.0.1", port=0, **options)
    controller.start()
    mail.port = controller.port
    try:
        yield mail
    finally:
        controller.stop()
