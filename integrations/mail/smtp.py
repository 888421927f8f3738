"""`SmtpMailer`: e-mail through an SMTP server (submission port with STARTTLS by default).

Python's smtplib is blocking, so each message is sent in a worker thread
(`asyncio.to_thread`); a connection per message is plenty for status-change notices and
keeps no socket open between dispatcher runs. How failures map:

- connection refused/reset, timeout, 4xx, login or TLS problems → MailUnavailable (retry)
- 5xx for the recipient (RCPT) or the content (DATA)             → MailRejected (give up)
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl

from integrations.mail.interface import (
    MailMessage,
    MailRejected,
    MailUnavailable,
    address_of,
    to_email,
)

log = logging.getLogger("mcks.mail")


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        use_ssl: bool = False,
        timeout_seconds: float = 15.0,
    ) -> None:
        if not host:
            raise ValueError("an SMTP host is required")
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._use_ssl = starttls and not use_ssl, use_ssl
        self._timeout = timeout_seconds

    async def send(self, message: MailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    async def aclose(self) -> None:
        return None

    def _send(self, message: MailMessage) -> None:
        email = to_email(message, self._sender)
        try:
            smtp: smtplib.SMTP
            if self._use_ssl:
                smtp = smtplib.SMTP_SSL(
                    self._host,
                    self._port,
                    timeout=self._timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            with smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password)
                refused = smtp.send_message(
                    email, from_addr=address_of(self._sender), to_addrs=list(message.to)
                )
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if all(code >= 500 for code in codes):
                raise MailRejected(f"recipients refused: {error.recipients}") from error
            raise MailUnavailable(f"recipients deferred: {error.recipients}") from error
        except smtplib.SMTPDataError as error:
            if error.smtp_code >= 500:
                raise MailRejected(
                    f"message refused: {error.smtp_code} {error.smtp_error!r}"
                ) from error
            raise MailUnavailable(f"message deferred: {error.smtp_code}") from error
        except (smtplib.SMTPException, OSError) as error:
            # Sender refused, login failed, STARTTLS missing, disconnects, timeouts: the
            # server or our configuration, not this message; a later attempt may pass.
            raise MailUnavailable(f"{type(error).__name__}: {error}") from error
        if refused:
            # Some recipients took it: it is sent (sending again would duplicate it there).
            log.warning("message %s refused for %s", message.message_id, sorted(refused))
