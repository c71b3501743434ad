"""E-mail: writing a message (``compose``, in the language of its reader) and sending it (``Transport``).

Sending is the standard library's ``smtplib`` and ``email`` packages (well kept, and all we need: one
SMTP connection reused for a whole batch, STARTTLS or TLS, and MIME multipart). With no
``MAIL_SERVER`` the console transport prints each message instead, so that ``make run`` shows a
newcomer their verification link.

A message is written whole when it is queued (``compose``): subject, plain text, HTML and headers go
into the outbox row, and sending reads nothing else. Its ``Message-ID`` and ``Date`` are fixed then,
so every retry is the same message.
"""
import smtplib
import sys
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import urlencode, urlsplit

from flask import current_app, render_template

from ..timeutil import utcnow
from ..translations import template_helpers, translate
from . import outbox


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx answer): retrying would not help."""


def sender(config) -> str:
    """MAIL_FROM, or ``Causerie <noreply@HOST>`` with PUBLIC_URL's host."""
    if config["MAIL_FROM"]:
        return config["MAIL_FROM"]
    host = urlsplit(config["PUBLIC_URL"]).hostname or "localhost"
    return formataddr(("Causerie", f"noreply@{host}"))


def _domain(config) -> str:
    address = sender(config).rpartition("<")[2].rstrip(">")
    return address.rpartition("@")[2] or "localhost"


def public_link(path: str, **query) -> str:
    """An absolute link on PUBLIC_URL (never the request's Host): ``public_link("/reset", token=t)``."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + path + ("?" + urlencode(query) if query else "")


def compose(template: str, *, to: str, language: str, unsubscribe: str | None = None,
            **context) -> dict:
    """The outbox payload of one message, from ``templates/mail/<template>.{txt,html}``.

    Both templates get ``t`` and ``tn`` (translations in ``language``) and ``context``; the subject is
    the translation ``mail.<template>.subject`` filled with ``context``. ``unsubscribe``: the one-click
    link of a notification (RFC 8058 ``List-Unsubscribe`` and ``List-Unsubscribe-Post``).
    """
    config = current_app.config
    helpers = template_helpers(language)
    values = helpers | context | {"unsubscribe_link": unsubscribe}
    message_id = outbox.new_message_id()
    headers = {
        "Message-ID": f"<{message_id.removeprefix('msg_')}@{_domain(config)}>",
        "Date": format_datetime(utcnow()),
        "Auto-Submitted": "auto-generated",
    }
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return {
        "message_id": message_id,
        "to": to,
        "subject": translate(language, f"mail.{template}.subject", **_strings(context)),
        "text": render_template(f"mail/{template}.txt", **values),
        "html": render_template(f"mail/{template}.html", **values),
        "headers": headers,
        "language": language,
    }


def _strings(context: dict) -> dict:
    return {key: value for key, value in context.items() if isinstance(value, (str, int))}


def queue_many(messages: list[tuple[int, tuple[str, dict]]]) -> None:
    """Put composed messages ((recipient id, (category, payload)), ...) in the outbox in one statement."""
    outbox.enqueue_many([(outbox.MAIL, category, payload, recipient_id, None, payload["message_id"])
                         for recipient_id, (category, payload) in messages])


def queue(category: str, payload: dict, recipient_id: int | None) -> str:
    """Put a composed message in the outbox, in the current transaction."""
    return outbox.enqueue(outbox.MAIL, category, payload, recipient_id=recipient_id,
                          message_id=payload["message_id"])


def to_email(payload: dict, config) -> Message:
    """The MIME message of a stored payload: plain text with an HTML alternative.

    Built with the ``email.mime`` classes (the compat32 policy): five times cheaper than
    ``EmailMessage``, whose header parsing was most of the worker's time. Header values lose any line
    break (no header injection); non-ASCII ones are RFC 2047 encoded; bodies are quoted-printable.
    """
    message = MIMEMultipart("alternative")
    message["From"] = _address(sender(config))
    message["To"] = _address(payload["to"])
    message["Subject"] = _header(payload["subject"])
    for name, value in payload["headers"].items():
        message[name] = _header(value)
    message["Content-Language"] = _header(payload.get("language", "en"))
    message.attach(MIMEText(payload["text"], "plain", _UTF8))
    message.attach(MIMEText(payload["html"], "html", _UTF8))
    return message


_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def _header(value: str):
    value = " ".join(str(value).splitlines())
    return value if value.isascii() else Header(value, "utf-8")


def _address(value: str) -> str:
    value = " ".join(str(value).splitlines())
    if value.isascii():
        return value
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8")


def plain_text(message: Message) -> str:
    """The text/plain part of a message, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


class Transport:
    """Sends messages over one SMTP connection, opened on first use and reused until ``close``."""

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def send(self, message: Message) -> None:
        """Send, or raise PermanentFailure (refused for good) or another exception (try again later)."""
        try:
            self._connected().send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {codes}") from error
            self.close()
            raise
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPSenderRefused):
                raise PermanentFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
            self.close()
            raise
        except (smtplib.SMTPException, OSError):
            self.close()
            raise

    def _connected(self) -> smtplib.SMTP:
        if self.connection is not None:
            return self.connection
        config = self.config
        timeout = float(config["MAIL_TIMEOUT"])
        if config["MAIL_USE_SSL"]:
            connection = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
        else:
            connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
            if config["MAIL_USE_TLS"]:
                connection.starttls()
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        self.connection = connection
        return connection

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except (smtplib.SMTPException, OSError):
            self.connection.close()
        self.connection = None


class ConsoleTransport:
    """No MAIL_SERVER: print each message (the text part, links included) to standard output."""

    def __init__(self, config, stream=None):
        self.stream = stream or sys.stdout

    def send(self, message: Message) -> None:
        text = plain_text(message)
        lines = [f"{name}: {message[name]}" for name in ("Message-ID", "Date", "From", "To", "Subject")]
        self.stream.write("-" * 72 + "\n" + "\n".join(lines) + "\n\n" + text.rstrip() + "\n" + "-" * 72 + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


def transport(config):
    return Transport(config) if config["MAIL_SERVER"] else ConsoleTransport(config)

