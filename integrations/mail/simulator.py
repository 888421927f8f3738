"""Mail simulators for tests and the demo: an in-memory mailer and a loopback SMTP server.

`SimulatedMailer` keeps every message in a `Mailbox` instead of sending it. The message
goes through the same MIME encoding as on the wire and is parsed back, so a test reads the
subject and text a firm's mail client would show. Set `down = True` to play an unreachable
server.

`serve_simulator()` runs a small SMTP server on 127.0.0.1 (ephemeral port) for testing
`SmtpMailer` end to end: `async with serve_simulator() as server: SmtpMailer(server.host,
server.port, ...)`. Both answer by markers in the recipient address (any case):

    address contains   answer
    sim-reject         550 5.1.1 mailbox unavailable  → MailRejected
    sim-busy           451 4.3.0 try again later      → MailUnavailable
    (anything else)    accepted

and `server.down = True` makes the server answer 421 to every new connection;
`server.rcpt_answer = (code, text)` answers every recipient so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from integrations.mail.interface import (
    MailMessage,
    MailRejected,
    MailUnavailable,
    address_of,
    to_email,
)

log = logging.getLogger("mcks.mail")

REJECT_MARKER = "sim-reject"
BUSY_MARKER = "sim-busy"
DEFAULT_SENDER = "MCKS <mcks-noreply@localhost>"
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    envelope_from: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        return body.get_content() if body is not None else ""  # type: ignore[union-attr]

    @property
    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(file name, content type, bytes) of each attached file, as a mail client saves it."""
        found = []
        for part in self.message.iter_attachments():  # type: ignore[attr-defined]
            data = part.get_content()
            found.append((part.get_filename() or "", part.get_content_type(), bytes(data)))
        return found


@dataclass
class Mailbox:
    received: list[ReceivedMail] = field(default_factory=list)

    def add(self, envelope_from: str, recipients: tuple[str, ...], raw: bytes) -> ReceivedMail:
        message = message_from_bytes(raw, policy=default)
        mail = ReceivedMail(envelope_from, recipients, message)  # type: ignore[arg-type]
        self.received.append(mail)
        return mail

    def to(self, address: str) -> list[ReceivedMail]:
        wanted = address.lower()
        return [m for m in self.received if wanted in (r.lower() for r in m.recipients)]

    def clear(self) -> None:
        self.received.clear()


def _marker_answer(address: str) -> tuple[int, str] | None:
    lowered = address.lower()
    if REJECT_MARKER in lowered:
        return 550, "5.1.1 mailbox unavailable"
    if BUSY_MARKER in lowered:
        return 451, "4.3.0 try again later"
    return None


class SimulatedMailer:
    """A mailer that delivers into a `Mailbox` (no network)."""

    def __init__(self, mailbox: Mailbox | None = None, sender: str = DEFAULT_SENDER) -> None:
        self.mailbox = mailbox if mailbox is not None else Mailbox()
        self.sender = sender
        self.down = False

    async def send(self, message: MailMessage) -> None:
        if self.down:
            raise MailUnavailable("simulated mail server is down")
        for address in message.to:
            answer = _marker_answer(address)
            if answer is not None:
                code, text = answer
                error = MailRejected if code >= 500 else MailUnavailable
                raise error(f"{code} {text}: {address}")
        raw = to_email(message, self.sender).as_bytes()
        self.mailbox.add(address_of(self.sender), message.to, raw)
        # The demo's "mail server": the message shows in the log.
        log.info("simulated mail to %s: %s", ", ".join(message.to), message.subject)

    async def aclose(self) -> None:
        return None


# --- loopback SMTP server ------------------------------------------------------------------


@dataclass
class SmtpSimulator:
    host: str
    port: int
    mailbox: Mailbox
    down: bool = False
    # Set to answer every RCPT with this (e.g. `(451, "4.3.0 try again later")`), whatever the
    # address: a test changes the server's mood between two attempts of the same message.
    rcpt_answer: tuple[int, str] | None = None


async def _session(
    server: SmtpSimulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    async def reply(line: str) -> None:
        writer.write(line.encode("ascii") + b"\r\n")
        await writer.drain()

    if server.down:
        await reply("421 4.3.2 service not available")
        return
    await reply("220 mcks-mail-simulator ESMTP")
    sender, recipients = "", list[str]()
    while line := await reader.readline():
        command = line.decode("utf-8", "replace").rstrip("\r\n")
        verb = command[:4].upper()
        argument = command[4:].strip()
        if verb == "EHLO":
            await reply("250-mcks-mail-simulator")
            await reply("250-8BITMIME")
            await reply(f"250 SIZE {MAX_MESSAGE_BYTES}")
        elif verb == "HELO":
            await reply("250 mcks-mail-simulator")
        elif verb == "MAIL":
            sender, recipients = _address(argument), []
            await reply("250 2.1.0 ok")
        elif verb == "RCPT":
            address = _address(argument)
            answer = server.rcpt_answer or _marker_answer(address)
            if answer is None:
                recipients.append(address)
                await reply("250 2.1.5 ok")
            else:
                await reply(f"{answer[0]} {answer[1]}")
        elif verb == "DATA":
            if not recipients:
                await reply("503 5.5.1 no valid recipients")
                continue
            await reply("354 end data with <CR><LF>.<CR><LF>")
            server.mailbox.add(sender, tuple(recipients), await _data(reader))
            sender, recipients = "", []
            await reply("250 2.0.0 queued")
        elif verb == "RSET":
            sender, recipients = "", []
            await reply("250 2.0.0 ok")
        elif verb == "NOOP":
            await reply("250 2.0.0 ok")
        elif verb == "QUIT":
            await reply("221 2.0.0 bye")
            return
        else:
            await reply("502 5.5.2 command not implemented")


def _address(argument: str) -> str:
    """`FROM:<a@b> SIZE=12` → `a@b`."""
    _, _, rest = argument.partition(":")
    rest = rest.strip()
    if rest.startswith("<"):
        return rest[1 : rest.find(">")]
    return rest.split(" ", 1)[0]


async def _data(reader: asyncio.StreamReader) -> bytes:
    lines: list[bytes] = []
    size = 0
    while True:
        line = await reader.readline()
        if not line or line in (b".\r\n", b".\n"):
            break
        if line.startswith(b".."):
            line = line[1:]  # dot-stuffing (RFC 5321 §4.5.2)
        size += len(line)
        if size <= MAX_MESSAGE_BYTES:
            lines.append(line)
    return b"".join(lines)


@contextlib.asynccontextmanager
async def serve_simulator(host: str = "127.0.0.1") -> AsyncIterator[SmtpSimulator]:
    """An SMTP server on loopback for the duration of the block (ephemeral port)."""
    state = SmtpSimulator(host=host, port=0, mailbox=Mailbox())

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _session(state, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, host, 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()
