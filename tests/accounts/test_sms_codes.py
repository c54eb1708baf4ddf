"""Codes texted to a phone, whatever their purpose: the settings they share.

The flows themselves are specified where they are used: test_phone.py (verifying a number),
test_two_factor.py (sign-in and two-factor changes), test_password_reset_sms.py (resetting a
password), test_sms_budget.py (what texts may cost).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def setting(name: str, **env: str) -> str:
    """The value of setting `name` in a fresh process started with `env`."""
    environment = {k: v for k, v in os.environ.items() if k not in {"SMS_CODE_MAX_ATTEMPTS", *env}}
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=Path(__file__).resolve().parents[2],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_tries_per_code_are_one_setting_for_every_purpose(settings):
    assert settings.SMS_CODE_MAX_ATTEMPTS == 5
    assert not hasattr(settings, "PHONE_VERIFICATION_MAX_ATTEMPTS")


@pytest.mark.parametrize(
    ("env", "tries"),
    [
        ({"PHONE_VERIFICATION_MAX_ATTEMPTS": "3"}, "3"),  # the former name, deprecated, still read
        ({"PHONE_VERIFICATION_MAX_ATTEMPTS": "3", "SMS_CODE_MAX_ATTEMPTS": "7"}, "7"),
    ],
)
def test_the_former_name_of_the_tries_setting_is_read_when_the_new_one_is_unset(env, tries):
    assert setting("SMS_CODE_MAX_ATTEMPTS", **env) == tries
