"""E-mail to firms (status-change notifications): interface, SMTP client, simulators.

Import from here; the simulators are imported explicitly
(`from integrations.mail.simulator import SimulatedMailer, serve_simulator`).
"""

from integrations.mail.interface import (
    MailAttachment,
    Mailer,
    MailError,
    MailMessage,
    MailRejected,
    MailUnavailable,
    address_of,
    to_email,
)
from integrations.mail.smtp import SmtpMailer

__all__ = [
    "MailAttachment",
    "MailError",
    "MailMessage",
    "MailRejected",
    "MailUnavailable",
    "Mailer",
    "SmtpMailer",
    "address_of",
    "to_email",
]
