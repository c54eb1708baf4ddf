"""SMS backends: a message goes out through the backend SMS_BACKEND names and comes back as the
provider's message id, or as an error that says whether sending it again can help."""

import io
import logging
import pickle
import traceback
from collections.abc import Iterator

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.stub import Stubber
from django.core.exceptions import ImproperlyConfigured

from apps.notifications import sms
from config.settings.base import sms_sender_id

NUMBER = "+447700900123"
BODY = "Your sign-in code is 493027"
MESSAGE_ID = "5b1e3f7a-8d2c-5c8e-9f0a-3c4d5e6f7a8b"
CONSOLE = "apps.notifications.sms.ConsoleSMSBackend"
LOCMEM = "apps.notifications.sms.LocmemSMSBackend"
SNS = "apps.notifications.sms.SNSSMSBackend"


@pytest.fixture(autouse=True)
def _empty_outbox() -> Iterator[None]:
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def aws(monkeypatch) -> None:
    """Fake credentials, and nothing of this machine's AWS set-up: no network, no real account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    for variable in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SNS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def publish_params(**attributes: dict) -> dict:
    return {
        "PhoneNumber": NUMBER,
        "Message": BODY,
        "MessageAttributes": {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            **attributes,
        },
    }


# --- Console and locmem -----------------------------------------------------------------------------------


def test_the_console_backend_prints_the_number_and_the_body_and_answers_with_an_id(capsys):
    message_id = sms.ConsoleSMSBackend().send(to=NUMBER, body=BODY)

    printed = capsys.readouterr().out
    assert NUMBER in printed
    assert BODY in printed
    assert message_id.startswith("console-")
    assert message_id in printed


def test_the_console_backend_writes_to_the_stream_it_is_given():
    stream = io.StringIO()
    sms.ConsoleSMSBackend(stream=stream).send(to=NUMBER, body=BODY)
    sms.ConsoleSMSBackend(stream=stream).send(to=NUMBER, body="Second")

    assert stream.getvalue().count(f"SMS to {NUMBER}") == 2
    assert "Second" in stream.getvalue()


def test_the_test_settings_collect_messages_in_the_outbox():
    first = sms.send_sms(to=NUMBER, body=BODY)
    second = sms.send_sms(to="+33612345678", body="Bonjour")

    assert sms.outbox == [
        sms.SMSMessage(to=NUMBER, body=BODY, message_id=first),
        sms.SMSMessage(to="+33612345678", body="Bonjour", message_id=second),
    ]
    assert first.startswith("locmem-")
    assert first != second


@pytest.mark.parametrize(
    "to",
    [
        "07700900123",  # national format, no country code
        "447700900123",  # no plus
        "+44 7700 900123",  # spaces
        "+0447700900123",  # country codes do not start with 0
        "+4412",  # too short to be anybody's number
        "+4477009001234567",  # more than the 15 digits E.164 allows
        "",
    ],
)
def test_a_number_that_is_not_e164_is_refused_for_good_before_any_backend_sees_it(to):
    with pytest.raises(sms.SMSPermanentError):
        sms.send_sms(to=to, body=BODY)
    assert sms.outbox == []


@pytest.mark.parametrize("body", ["", "   \n"])
def test_an_empty_message_is_refused_for_good(body):
    with pytest.raises(sms.SMSPermanentError):
        sms.send_sms(to=NUMBER, body=body)
    assert sms.outbox == []


# --- Choosing the backend ---------------------------------------------------------------------------------


def test_get_backend_follows_the_sms_backend_setting(settings, capsys):
    settings.SMS_BACKEND = CONSOLE
    assert isinstance(sms.get_backend(), sms.ConsoleSMSBackend)
    sms.send_sms(to=NUMBER, body=BODY)
    assert BODY in capsys.readouterr().out
    assert sms.outbox == []

    settings.SMS_BACKEND = LOCMEM
    assert isinstance(sms.get_backend(), sms.LocmemSMSBackend)


def test_every_caller_in_a_process_shares_one_backend(settings, aws):
    settings.SMS_BACKEND = SNS
    assert sms.get_backend() is sms.get_backend()


def test_a_changed_setting_builds_a_fresh_backend(settings, aws):
    settings.SMS_BACKEND = SNS
    settings.SMS_SENDER_ID = "Backend"
    before = sms.get_backend()

    settings.SMS_SENDER_ID = "Other"
    settings.AWS_SNS_REGION = "eu-central-1"
    after = sms.get_backend()

    assert after is not before
    assert after.sender_id == "Other"
    assert after.client.meta.region_name == "eu-central-1"


def test_the_errors_tell_the_delivery_task_whether_to_retry():
    assert issubclass(sms.SMSTransientError, sms.SMSError)
    assert issubclass(sms.SMSPermanentError, sms.SMSError)
    assert issubclass(sms.SMSConfigurationError, sms.SMSPermanentError)
    assert not issubclass(sms.SMSTransientError, sms.SMSPermanentError)


def test_an_error_keeps_its_code_across_processes():
    sent = pickle.dumps(sms.SMSTransientError("SNS is throttling", code="Throttled"))
    error = pickle.loads(sent)  # noqa: S301 - bytes pickled just above
    assert (type(error), str(error), error.code) == (sms.SMSTransientError, "SNS is throttling", "Throttled")


# --- Amazon SNS -------------------------------------------------------------------------------------------


def test_sns_sends_one_transactional_sms_under_the_sender_id(settings, aws):
    settings.SMS_SENDER_ID = "Backend"
    backend = sms.SNSSMSBackend()
    with Stubber(backend.client) as stubber:
        stubber.add_response(
            "publish",
            {"MessageId": MESSAGE_ID},
            expected_params=publish_params(
                **{"AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Backend"}}
            ),
        )
        assert backend.send(to=NUMBER, body=BODY) == MESSAGE_ID
        stubber.assert_no_pending_responses()


def test_sns_names_no_sender_id_when_none_is_set(settings, aws):
    settings.SMS_SENDER_ID = ""
    backend = sms.SNSSMSBackend()
    with Stubber(backend.client) as stubber:
        stubber.add_response("publish", {"MessageId": MESSAGE_ID}, expected_params=publish_params())
        assert backend.send(to=NUMBER, body=BODY) == MESSAGE_ID
        stubber.assert_no_pending_responses()


def test_the_sns_client_gives_up_quickly_and_leaves_the_retries_to_the_task(settings, aws):
    settings.AWS_SNS_REGION = "eu-west-2"
    client = sms.SNSSMSBackend().client

    assert client.meta.region_name == "eu-west-2"
    assert client.meta.config.connect_timeout <= 5
    assert client.meta.config.read_timeout <= 10
    assert client.meta.config.retries["total_max_attempts"] <= 2


@pytest.mark.parametrize(
    ("code", "status", "error_class"),
    [
        # The number or the message: the same request will always get the same answer.
        ("InvalidParameter", 400, sms.SMSPermanentError),
        ("ParameterValueInvalid", 400, sms.SMSPermanentError),
        ("InvalidParameterValue", 400, sms.SMSPermanentError),
        ("OptedOut", 400, sms.SMSPermanentError),
        ("OptedOutException", 400, sms.SMSPermanentError),
        # Our credentials, IAM policy or KMS key: permanent, and told apart from a bad number.
        ("AuthorizationError", 403, sms.SMSConfigurationError),
        ("InvalidClientTokenId", 403, sms.SMSConfigurationError),
        ("KMSAccessDenied", 400, sms.SMSConfigurationError),
        # SNS busy or broken: later may work.
        ("Throttled", 429, sms.SMSTransientError),
        ("Throttling", 400, sms.SMSTransientError),
        ("KMSThrottling", 400, sms.SMSTransientError),
        ("InternalError", 500, sms.SMSTransientError),
        ("ServiceUnavailable", 503, sms.SMSTransientError),
        # Codes nobody listed go by the HTTP status.
        ("SomethingNew", 503, sms.SMSTransientError),
        ("SomethingNew", 429, sms.SMSTransientError),
        ("SomethingNew", 400, sms.SMSPermanentError),
    ],
)
def test_sns_errors_map_to_transient_or_permanent(aws, code, status, error_class):
    backend = sms.SNSSMSBackend()
    with Stubber(backend.client) as stubber:
        stubber.add_client_error(
            "publish",
            service_error_code=code,
            service_message=f"Invalid parameter: PhoneNumber Reason: {NUMBER} is not valid",
            http_status_code=status,
        )
        with pytest.raises(sms.SMSError) as raised:
            backend.send(to=NUMBER, body=BODY)

    assert type(raised.value) is error_class
    assert raised.value.code == code
    # SNS's message quotes the number; the error, traceback and all, must not.
    assert NUMBER not in "".join(traceback.format_exception(raised.value))


@pytest.mark.parametrize(
    "failure", [EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError]
)
def test_sns_out_of_reach_is_transient_after_one_quick_retry_at_most(aws, failure):
    backend = sms.SNSSMSBackend()
    attempts = []

    def network_down(request, **kwargs):
        attempts.append(request)
        raise failure(endpoint_url=request.url)

    backend.client.meta.events.register("before-send.sns.Publish", network_down)
    with pytest.raises(sms.SMSTransientError) as raised:
        backend.send(to=NUMBER, body=BODY)

    assert raised.value.code == failure.__name__
    assert isinstance(raised.value.__cause__, failure)
    assert len(attempts) == 2, "one attempt and one quick retry"


def test_sns_without_credentials_is_a_configuration_error(aws, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    backend = sms.SNSSMSBackend()

    def on_the_wire(**kwargs):
        pytest.fail("an unsigned request went out")

    backend.client.meta.events.register("before-send.sns.Publish", on_the_wire)

    with pytest.raises(sms.SMSConfigurationError) as raised:
        backend.send(to=NUMBER, body=BODY)
    assert raised.value.code == "NoCredentialsError"


def test_sns_logs_neither_the_body_nor_the_whole_number(aws, caplog):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="apps.notifications")
    backend = sms.SNSSMSBackend()
    with Stubber(backend.client) as stubber:
        stubber.add_response("publish", {"MessageId": MESSAGE_ID})
        stubber.add_client_error("publish", service_error_code="InvalidParameter", service_message=NUMBER)
        stubber.add_client_error("publish", service_error_code="AuthorizationError", http_status_code=403)
        stubber.add_client_error("publish", service_error_code="Throttled", http_status_code=429)
        backend.send(to=NUMBER, body=BODY)
        for _ in range(3):
            with pytest.raises(sms.SMSError):
                backend.send(to=NUMBER, body=BODY)

    assert len([record for record in caplog.records if record.name == "apps.notifications.sms"]) == 4
    assert "***123" in caplog.text
    assert MESSAGE_ID in caplog.text
    assert NUMBER not in caplog.text
    assert "7700900" not in caplog.text
    assert "493027" not in caplog.text


# --- SMS_SENDER_ID ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "A", "Backend", "ACME2024", "ABCDEFGHIJK"])
def test_a_well_formed_sender_id_is_taken_as_it_is(value):
    assert sms_sender_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "ABCDEFGHIJKL",  # twelve characters
        "My Shop",  # a space
        "Shop-1",  # a hyphen
        "Bäckerei",  # not ASCII
        "12345",  # digits only: would read as a phone number
    ],
)
def test_a_malformed_sender_id_stops_start_up(value):
    with pytest.raises(ImproperlyConfigured, match="SMS_SENDER_ID"):
        sms_sender_id(value)
