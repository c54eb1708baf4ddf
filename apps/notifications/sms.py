"""Text messages: one small interface, the backend chosen by the SMS_BACKEND setting.

It works like Django's EMAIL_BACKEND. Callers say `send_sms(to="+447700900123", body="...")` and get
the provider's message id back; the setting (a dotted path) decides where the message goes:

    apps.notifications.sms.SNSSMSBackend      production: Amazon SNS, in AWS_SNS_REGION
    apps.notifications.sms.ConsoleSMSBackend  development: printed on the console
    apps.notifications.sms.LocmemSMSBackend   tests: collected in `outbox`

`to` is an E.164 number (`+`, country code, number, at most 15 digits). Every backend checks the
number and the body first, then answers with a message id or raises one of two errors. Those two
are all the delivery task needs to know to decide whether to retry:

- `SMSTransientError`: the provider is down, throttling us, or out of reach (network, timeout).
  The same message may well go through later, so the task backs off and tries again.
- `SMSPermanentError`: the number is invalid or has opted out, or the provider refused this
  message. Sending it again gives the same answer, so the task never retries it.
  `SMSConfigurationError` is a kind of permanent error: the fault is ours (credentials, IAM
  policy, KMS key), not the recipient's, and every message fails the same way until an operator
  fixes it. Retrying would not fix it in time to help: a one-time code is stale within minutes.
  It is logged at ERROR, and the task can tell it apart, e.g. to keep a good number from being
  marked bad.

Both derive from `SMSError`, so `except SMSError` catches whatever a backend raises.

A body usually holds a one-time code, and a phone number is personal data. Nothing here logs
either: log lines show the last three digits (`***123`). Errors carry the provider's error
code, never its message, which can quote the number.

get_backend() builds the configured backend once per process and then returns that same
instance. The SNS backend's client, with its connection pool, is made once instead of once per
message (making one takes a fifth of a second). When a test changes one of the settings
(pytest-django's `settings` fixture, override_settings) the next call builds a fresh backend.
"""

import functools
import logging
import re
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

E164 = re.compile(r"\+[1-9]\d{6,14}")


class SMSError(Exception):
    """A message was not sent. `code` names the cause (the provider's error code, when it gave one)."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class SMSTransientError(SMSError):
    """Not sent this time; the same message may go through later."""


class SMSPermanentError(SMSError):
    """Never sent, and it never will be: do not retry."""


class SMSConfigurationError(SMSPermanentError):
    """Never sent because of how we are set up (credentials, permissions, keys), not the recipient."""


def masked(number: str) -> str:
    """A phone number as log lines may show it: the last three digits."""
    return f"***{number[-3:]}"


class BaseSMSBackend:
    """Subclasses implement `_send`. `send` checks the message first, so no backend sees a
    malformed one."""

    def send(self, *, to: str, body: str) -> str:
        """Send `body` to the E.164 number `to`; the provider's message id."""
        if not isinstance(to, str) or not E164.fullmatch(to):
            raise SMSPermanentError("The recipient is not an E.164 phone number", code="invalid_number")
        if not body or not body.strip():
            raise SMSPermanentError("The message is empty", code="empty_body")
        return self._send(to=to, body=body)

    def _send(self, *, to: str, body: str) -> str:
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Development: writes each message to a stream, by default the console, as a block:

    SMS to +447700900123 (console-3f2b...)
    Your code is 123456
    ------------------------------------------------------------------------------
    """

    def __init__(self, *, stream: TextIO | None = None) -> None:
        # Unset, sys.stdout is looked up per message, not now: this instance lives as long as
        # the process, and whatever replaced stdout later (pytest's capture) should see the text.
        self.stream = stream
        # Keeps the lines of messages from different threads apart.
        self._lock = threading.Lock()

    def _send(self, *, to: str, body: str) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(f"SMS to {to} ({message_id})\n{body}\n{'-' * 79}\n")
            stream.flush()
        return message_id


@dataclass(frozen=True)
class SMSMessage:
    to: str
    body: str
    message_id: str


# Every message the locmem backend "sent", oldest first. Tests empty it with `outbox.clear()`
# before they run (unlike django.core.mail.outbox, nothing clears it for them). It is cleared
# in place and never replaced, so `from apps.notifications.sms import outbox` stays current.
outbox: list[SMSMessage] = []


class LocmemSMSBackend(BaseSMSBackend):
    """Tests: collects each message in `outbox` instead of sending it."""

    def _send(self, *, to: str, body: str) -> str:
        message_id = f"locmem-{uuid.uuid4().hex}"
        outbox.append(SMSMessage(to=to, body=body, message_id=message_id))
        return message_id


# --- Amazon SNS -----------------------------------------------------------------------------------------
# Seconds. SNS answers a publish in well under a second. A worker stuck for a minute on a dead
# connection holds up every message queued behind this one.
SNS_CONNECT_TIMEOUT = 2
SNS_READ_TIMEOUT = 5
# One attempt and at most one quick retry inside botocore; the delivery task owns the real
# retries, spaced out over minutes. A read timeout can come after SNS took the message, so a retry
# may send it twice. Two copies of a code are better than none, but there should be no more.
SNS_MAX_ATTEMPTS = 2

# SNS error codes (the `Code` of a ClientError), as named in botocore's SNS service model
# (botocore/data/sns/2010-03-31/service-2.json) and the common AWS errors.
SNS_PERMANENT_CODES = frozenset(
    {
        "InvalidParameter",  # malformed number, empty or oversized message, bad attribute
        "ParameterValueInvalid",  # InvalidParameterValueException on the wire (e.g. the sender id)
        "InvalidParameterValue",  # the same, as the SNS API reference spells it
        "ValidationException",
        # Publish usually accepts a message to an opted-out number and drops it later (only the
        # delivery status logs tell); when SNS does refuse it up front, it uses this code.
        "OptedOut",
        "OptedOutException",
    }
)
SNS_CONFIGURATION_CODES = frozenset(
    {
        "AuthorizationError",  # the IAM policy does not allow sns:Publish
        "InvalidSecurity",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidClientTokenId",  # no such access key
        "SignatureDoesNotMatch",  # wrong secret key
        "UnrecognizedClientException",
        "OptInRequired",
        "KMSAccessDenied",
        "KMSDisabled",
        "KMSInvalidState",
        "KMSNotFound",
        "KMSOptInRequired",
    }
)
SNS_TRANSIENT_CODES = frozenset(
    {
        "Throttled",  # ThrottledException, HTTP 429
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "KMSThrottling",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
        # Temporary credentials (an instance or task role) that ran out between refreshes; the
        # next attempt signs with fresh ones.
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
    }
)


class SNSSMSBackend(BaseSMSBackend):
    """Production: one transactional SMS per message through Amazon SNS.

    Credentials come from the standard AWS chain (environment variables, the instance or task
    role), never from settings. SMS_SENDER_ID, when set, names the sender on recipients' phones
    where the country allows it; in other countries (the US, Canada, ...) SNS ignores it.

    Errors map as the module docstring says. A ClientError code not listed above is transient
    for HTTP 429 and 5xx and permanent for other 4xx: AWS says the request itself is wrong, and
    sending the same request again gets the same answer. Other botocore failures are transient
    (network, timeouts, credential look-ups), except missing credentials or region (configuration)
    and parameters botocore refused to send (permanent).
    """

    def __init__(self, *, region: str | None = None, sender_id: str | None = None) -> None:
        # Imported here: importing boto3 takes about 0.15 s, and only processes that send through
        # SNS need it.
        import boto3
        from botocore.config import Config

        self.sender_id = settings.SMS_SENDER_ID if sender_id is None else sender_id
        # A session of its own rather than boto3's default one, which threads share unsafely and
        # which keeps the first credentials it found for as long as the process lives.
        self.client = boto3.session.Session().client(
            "sns",
            region_name=region or settings.AWS_SNS_REGION,
            config=Config(
                connect_timeout=SNS_CONNECT_TIMEOUT,
                read_timeout=SNS_READ_TIMEOUT,
                retries={"mode": "standard", "total_max_attempts": SNS_MAX_ATTEMPTS},
            ),
        )

    def _send(self, *, to: str, body: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as BotocoreConnectionError

        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sender_id}
        try:
            response = self.client.publish(PhoneNumber=to, Message=body, MessageAttributes=attributes)
        except (ClientError, BotoCoreError) as exc:
            error = sns_error(exc)
            level = logging.ERROR if isinstance(error, SMSConfigurationError) else logging.WARNING
            kind = "transient" if isinstance(error, SMSTransientError) else "permanent"
            logger.log(level, "SNS did not send an SMS to %s: %s (%s)", masked(to), error.code, kind)
            # A ClientError's message, or a ParamValidationError's, can quote the number or the
            # body, and a chained exception is printed with every traceback of ours. Only
            # connection failures, which name no more than the endpoint, stay chained.
            connection_failure = isinstance(exc, BotocoreConnectionError | HTTPClientError)
            raise error from (exc if connection_failure else None)
        message_id = response["MessageId"]
        logger.info("SMS to %s accepted by SNS as %s", masked(to), message_id)
        return message_id


def sns_error(exc: Exception) -> SMSError:
    """The SMSError that `exc`, a ClientError or BotoCoreError from the SNS client, stands for."""
    from botocore import exceptions as botocore_errors

    if isinstance(exc, botocore_errors.ClientError):
        code = exc.response.get("Error", {}).get("Code", "") or "Unknown"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in SNS_CONFIGURATION_CODES:
            return SMSConfigurationError(f"SNS refused our credentials or setup ({code})", code=code)
        if code in SNS_PERMANENT_CODES:
            return SMSPermanentError(f"SNS refused the message ({code})", code=code)
        if code in SNS_TRANSIENT_CODES or status == 429 or status >= 500:
            return SMSTransientError(f"SNS could not take the message now ({code})", code=code)
        logger.warning("Unlisted SNS error code %s (HTTP %s), taken as permanent", code, status)
        return SMSPermanentError(f"SNS refused the message ({code})", code=code)
    code = type(exc).__name__
    if isinstance(exc, botocore_errors.ConnectionError | botocore_errors.HTTPClientError):
        return SMSTransientError(f"SNS could not be reached ({code})", code=code)
    missing_setup = (
        botocore_errors.NoCredentialsError,
        botocore_errors.PartialCredentialsError,
        botocore_errors.NoRegionError,
    )
    if isinstance(exc, missing_setup):
        return SMSConfigurationError(f"SNS cannot be used as configured ({code})", code=code)
    if isinstance(exc, botocore_errors.ParamValidationError):
        return SMSPermanentError(f"botocore refused the message's parameters ({code})", code=code)
    return SMSTransientError(f"SNS could not take the message ({code})", code=code)


# --- Choosing the backend -------------------------------------------------------------------------------
BACKEND_SETTINGS = frozenset({"SMS_BACKEND", "SMS_SENDER_ID", "AWS_SNS_REGION"})


@functools.cache
def _backend(path: str) -> BaseSMSBackend:
    return import_string(path)()


def get_backend() -> BaseSMSBackend:
    """The backend SMS_BACKEND names: one instance per process, shared by every caller."""
    return _backend(settings.SMS_BACKEND)


@receiver(setting_changed, dispatch_uid="notifications.sms.forget_backend")
def _forget_backend(*, setting: str, **kwargs) -> None:
    if setting in BACKEND_SETTINGS:
        _backend.cache_clear()


def send_sms(*, to: str, body: str) -> str:
    """Send `body` to the E.164 number `to` through the configured backend; the message id.

    Raises SMSTransientError (try again later) or SMSPermanentError (never retry).
    """
    return get_backend().send(to=to, body=body)
