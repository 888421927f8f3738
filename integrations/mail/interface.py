"""Sending e-mail to firms: the message, the one interface, and typed failures.

`smtp.SmtpMailer` talks to a real SMTP server; `simulator` keeps messages in memory (tests,
the demo) or plays an SMTP server on loopback. Failures say whether a retry can help
(`retryable`), so the outbox dispatcher decides without parsing messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MailAttachment:
    """A file the message carries (the signed fee notice or permit)."""

    filename: str
    content_type: str
    data: bytes

    def __post_init__(self) -> None:
        if "/" not in self.content_type:
            raise ValueError("a content type is type/subtype")


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: tuple[str, ...]
    subject: str
    text: str
    # Stable across retries of the same notification, so a receiver can drop a second copy
    # when a crash after sending made us send it again.
    message_id: str
    date: datetime
    reply_to: str | None = None
    attachments: tuple[MailAttachment, ...] = ()

    def __post_init__(self) -> None:
        if not self.to or any("@" not in address for address in self.to):
            raise ValueError("a message needs at least one e-mail address")
        if "\n" in self.subject or "\r" in self.subject:
            raise ValueError("a subject is one line")


def to_email(message: MailMessage, sender: str) -> EmailMessage:
    """The MIME message as it goes on the wire: UTF-8 text, headers RFC 2047-encoded, so
    Turkish letters survive every server (no SMTPUTF8 or 8BITMIME needed)."""
    email = EmailMessage(policy=SMTP)
    email["From"] = sender
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.date)
    email["Message-ID"] = message.message_id
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email.set_content(message.text, charset="utf-8", cte="quoted-printable")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        # base64, and the file name RFC 2231-encoded (Turkish letters survive).
        email.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return email


def address_of(sender: str) -> str:
    """`MCKS <mcks@example.org>` → `mcks@example.org` (the envelope sender)."""
    if "<" in sender:
        return sender[sender.index("<") + 1 : sender.rindex(">")].strip()
    return Address(addr_spec=sender.strip()).addr_spec


class MailError(Exception):
    """The message was not accepted."""

    retryable: bool = True


class MailUnavailable(MailError):
    """No server, a timeout, a 4xx, or our configuration (login, TLS): try again later."""


class MailRejected(MailError):
    """A 5xx for the recipient or the content: the same message will never be accepted."""

    retryable = False


class Mailer(Protocol):
    async def send(self, message: MailMessage) -> None: ...

    async def aclose(self) -> None: ...
