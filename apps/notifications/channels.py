"""Sending one rendered message on its channel, and telling a failure worth retrying from one
that is final."""

from smtplib import SMTPException, SMTPRecipientsRefused, SMTPSenderRefused

from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from django.core.mail import EmailMultiAlternatives

from apps.notifications import sms
from apps.notifications.models import Channel
from apps.notifications.rendering import Rendered


class DeliveryError(Exception):
    """Sending failed; `transient` says whether trying again later may succeed."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


# Order matters: the refused-recipient errors are subclasses of the general ones.
_PERMANENT_EMAIL = (AnymailRecipientsRefused, AnymailInvalidAddress, SMTPRecipientsRefused, SMTPSenderRefused)
_TRANSIENT_EMAIL = (AnymailAPIError, SMTPException, ConnectionError, TimeoutError, OSError)


def _email(address: str, message: Rendered) -> str:
    email = EmailMultiAlternatives(subject=message.subject, body=message.body, to=[address])
    if message.html:
        email.attach_alternative(message.html, "text/html")
    try:
        email.send()
    except _PERMANENT_EMAIL as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", transient=False) from exc
    except _TRANSIENT_EMAIL as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", transient=True) from exc
    status = getattr(email, "anymail_status", None)  # anymail backends say what the provider named it
    return (status.message_id or "") if status is not None else ""


def _sms(address: str, message: Rendered) -> str:
    try:
        return sms.send_sms(to=address, body=message.body)
    except sms.SMSPermanentError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", transient=False) from exc
    except sms.SMSTransientError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", transient=True) from exc


def send(*, channel: str, address: str, message: Rendered) -> str:
    """Send `message`; the provider's message id ("" when it names none). Raises DeliveryError."""
    if channel == Channel.EMAIL:
        return _email(address, message)
    if channel == Channel.SMS:
        return _sms(address, message)
    return ""  # in-app: storing the rendered message is the delivery
