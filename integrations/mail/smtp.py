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


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)


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
            # The server's own answer, as staff see it in the outbox: "550 5.1.1 ...".
            answers = "; ".join(
                f"{address}: {code} {_text(text)}"
                for address, (code, text) in error.recipients.items()
            )
            codes = [code for code, _ in error.recipients.values()]
            if all(code >= 500 for code in codes):
                raise MailRejected(answers) from error
            raise MailUnavailable(answers) from error
        except smtplib.SMTPDataError as error:
            answer = f"{error.smtp_code} {_text(error.smtp_error)}"
            if error.smtp_code >= 500:
                raise MailRejected(answer) from error
            raise MailUnavailable(answer) from error
        except smtplib.SMTPResponseException as error:
            # Sender refused, login failed, a greeting of 421/554: the server or our
            # configuration, not this message; a later attempt may pass.
            raise MailUnavailable(f"{error.smtp_code} {_text(error.smtp_error)}") from error
        except (smtplib.SMTPException, OSError) as error:
            # Refused or reset connections, timeouts, STARTTLS missing.
            where = f"{self._host}:{self._port}"
            raise MailUnavailable(f"{where}: {type(error).__name__}: {error}") from error
        if refused:
            # Some recipients took it: it is sent (sending again would duplicate it there).
            log.warning("message %s refused for %s", message.message_id, sorted(refused))
