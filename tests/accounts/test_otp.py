"""TOTP codes (RFC 6238 through pyotp): six digits, 30-second steps, one step of drift either way,
and never a step at or before the last one accepted. The clock is passed in, so it is frozen."""

import pyotp
import pytest

from apps.accounts import otp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # 160 bits, as otp.secret_make() gives
NOW = 1_796_000_000.0  # a fixed moment, 2026-11-30
STEP = int(NOW // 30)


def code_at(step: int) -> str:
    return pyotp.TOTP(SECRET).at(step * 30)


class TestAcceptedSteps:
    def test_the_current_code_matches_the_current_step(self):
        assert otp.matching_step(SECRET, code_at(STEP), after_step=None, now=NOW) == STEP

    @pytest.mark.parametrize("drift", [-1, 1])
    def test_a_code_one_step_away_is_accepted(self, drift):
        assert otp.matching_step(SECRET, code_at(STEP + drift), after_step=None, now=NOW) == STEP + drift

    @pytest.mark.parametrize("drift", [-3, -2, 2, 3])
    def test_a_code_further_away_is_refused(self, drift):
        assert otp.matching_step(SECRET, code_at(STEP + drift), after_step=None, now=NOW) is None

    def test_a_code_of_another_secret_is_refused(self):
        other = pyotp.TOTP("KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF").at(NOW)
        assert other not in {code_at(STEP + drift) for drift in (-1, 0, 1)}
        assert otp.matching_step(SECRET, other, after_step=None, now=NOW) is None

    def test_codes_are_what_any_authenticator_app_computes(self):
        # pyotp's own TOTP with the defaults every app uses: SHA-1, six digits, 30 seconds.
        assert code_at(STEP) == pyotp.TOTP(SECRET).at(NOW)
        assert otp.provisioning_uri(SECRET, "ada@example.com").startswith("otpauth://totp/")


class TestReplay:
    def test_the_step_last_accepted_is_refused(self):
        assert otp.matching_step(SECRET, code_at(STEP), after_step=STEP, now=NOW) is None

    def test_an_earlier_step_is_refused_after_a_later_one(self):
        assert otp.matching_step(SECRET, code_at(STEP - 1), after_step=STEP, now=NOW) is None

    def test_the_next_step_is_accepted_after_the_current_one(self):
        assert otp.matching_step(SECRET, code_at(STEP + 1), after_step=STEP, now=NOW) == STEP + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 345", "١٢٣٤٥٦", None, 123456])
def test_anything_but_six_ascii_digits_is_refused(code):
    assert otp.matching_step(SECRET, code, after_step=None, now=NOW) is None


def test_the_qr_code_is_an_svg_data_uri_of_the_uri():
    uri = otp.provisioning_uri(SECRET, "ada@example.com")
    assert otp.qr_code_data_uri(uri).startswith("data:image/svg+xml")
