"""The digest as an e-mail, and its delivery over SMTP: the only module that speaks SMTP.

Headers are built from cleaned values (no line breaks: a title from the web cannot add a header).
TLS (`ssl` or `starttls`) always verifies the server's certificate and host name, which smtplib
does not do unless given a default SSL context. No protocol debug output: it would print AUTH.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from crawler.errors import MailError

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from crawler.config import SmtpConfig

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = 10.0  # first wait before a retry; doubled at each attempt
MAX_HEADER_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


class DeliveryError(MailError):
    """The server did not take the digest. `permanent`: retrying the same message cannot help."""

    def __init__(self, message: str, *, permanent: bool, attempts: int) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class Delivery:
    """A digest the server accepted (for at least one recipient)."""

    message_id: str
    attempts: int
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> the server's answer


def clean_header(value: str, limit: int = MAX_HEADER_CHARS) -> str:
    """One line of at most `limit` characters: line breaks and control characters become spaces."""
    single = " ".join(_CONTROL.sub(" ", value).split())
    return single if len(single) <= limit else single[: limit - 1].rstrip() + "…"


def new_message_id(sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    return make_msgid(idstring="newswatch-digest", domain=clean_header(domain, 200))


def build_message(
    *,
    subject: str,
    sender: str,
    recipients: Sequence[str],
    text: str,
    html: str,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML preferred by clients."""
    message = EmailMessage()
    message["Subject"] = clean_header(subject)
    message["From"] = Address(display_name="newswatch", addr_spec=clean_header(sender))
    if recipients:  # a preview (--output, --dry-run) may have none configured yet
        message["To"] = [Address(addr_spec=clean_header(address)) for address in recipients]
    message["Date"] = format_datetime(date)
    message["Message-ID"] = clean_header(message_id)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def send_message(
    message: EmailMessage,
    smtp: SmtpConfig,
    *,
    backoff: float = BACKOFF_SECONDS,
    stop: threading.Event | None = None,
    sleep: Callable[[float], object] | None = None,
) -> Delivery:
    """Deliver `message`, retrying transient failures (4xx, dropped connection, timeout).

    Raises DeliveryError when the server refused it for good (5xx, authentication) or when the
    retries ran out; the caller keeps the stories pending then. A retry resends the same
    Message-ID, so a client that got the message twice can tell.
    """
    wait = sleep or (stop.wait if stop is not None else time.sleep)
    attempts = smtp.retries + 1
    where = f"{smtp.host}:{smtp.effective_port}"
    for attempt in range(1, attempts + 1):
        try:
            refused = _deliver_once(message, smtp)
        except DeliveryError as exc:
            exc.attempts = attempt
            if exc.permanent or attempt == attempts:
                raise
            if stop is not None and stop.is_set():
                raise DeliveryError(
                    f"{exc}; not retried: newswatch is stopping", permanent=False, attempts=attempt
                ) from None
            delay = backoff * 2 ** (attempt - 1)
            logger.warning(
                "Digest delivery to %s failed (attempt %d of %d): %s; retrying in %.0fs",
                where,
                attempt,
                attempts,
                exc,
                delay,
            )
            wait(delay)
            if stop is not None and stop.is_set():
                raise DeliveryError(
                    f"{exc}; not retried: newswatch is stopping", permanent=False, attempts=attempt
                ) from None
            continue
        return Delivery(str(message["Message-ID"]), attempt, refused)
    raise AssertionError("unreachable")


def _deliver_once(message: EmailMessage, smtp: SmtpConfig) -> dict[str, str]:
    """One SMTP session; every failure comes out as a DeliveryError saying what to check."""
    where = f"{smtp.host}:{smtp.effective_port}"
    sender = message["From"].addresses[0].addr_spec
    recipients = [address.addr_spec for address in message["To"].addresses]
    context = ssl.create_default_context()  # verifies the certificate and the host name
    try:
        client: smtplib.SMTP
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.effective_port, timeout=smtp.timeout, context=context
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.effective_port, timeout=smtp.timeout)
        with client:
            client.ehlo()
            if smtp.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if smtp.username:
                password = smtp.password.get_secret_value() if smtp.password else ""
                client.login(smtp.username, password)
            refused = client.send_message(message, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        answers = {rcpt: _answer(code, text) for rcpt, (code, text) in exc.recipients.items()}
        transient = all(400 <= code < 500 for code, _ in exc.recipients.values())
        raise DeliveryError(
            f"{where} refused every recipient: {'; '.join(answers.values())}",
            permanent=not transient,
            attempts=1,
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        transient = 400 <= exc.smtp_code < 500
        raise DeliveryError(
            f"{where} refused the login of {smtp.username!r}: "
            f"{_answer(exc.smtp_code, exc.smtp_error)}; check [smtp] username and the "
            "NEWSWATCH_SMTP_PASSWORD environment variable",
            permanent=not transient,
            attempts=1,
        ) from None
    except smtplib.SMTPResponseException as exc:
        transient = 400 <= exc.smtp_code < 500
        raise DeliveryError(
            f"{where} answered {_answer(exc.smtp_code, exc.smtp_error)}",
            permanent=not transient,
            attempts=1,
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(
            f"{where} does not support what [smtp] asks ({exc}); check [smtp] security "
            "(none, starttls or ssl) and username",
            permanent=True,
            attempts=1,
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"the TLS certificate of {where} is not valid for {smtp.host!r} "
            f"({exc.verify_message}); newswatch sends only to a verified server",
            permanent=True,
            attempts=1,
        ) from None
    except ssl.SSLError as exc:
        raise DeliveryError(
            f"TLS with {where} failed ({exc.reason or exc}); check [smtp] security and port "
            "(ssl is usually port 465, starttls 587)",
            permanent=True,
            attempts=1,
        ) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise DeliveryError(
            f"{where} closed the connection ({exc or 'no reason given'})",
            permanent=False,
            attempts=1,
        ) from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(
            f"SMTP with {where} failed: {exc}", permanent=False, attempts=1
        ) from None
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(
            f"cannot reach the mail server {where}: {exc.strerror or exc}",
            permanent=False,
            attempts=1,
        ) from None
    return {rcpt: _answer(code, text) for rcpt, (code, text) in refused.items()}


def _answer(code: int, text: bytes | str) -> str:
    """A server reply as one readable line: '451 4.3.0 try again later'."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return clean_header(f"{code} {text}", 500)
