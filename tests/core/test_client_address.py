"""One rule for the client's address: REMOTE_ADDR, unless proxies are trusted explicitly."""

import pytest
from django.test import RequestFactory

from apps.analytics.models import LoginEvent
from apps.core.client_address import client_ip
from apps.logs.models import AuditLog
from tests.conftest import DEFAULT_PASSWORD

LOGIN = "/api/v1/auth/login/"
CLIENT = "198.51.100.7"
PROXY = "10.0.0.2"


def request(remote=CLIENT, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


class TestWithNoProxyTrusted:
    def test_the_client_is_the_peer_of_the_connection(self):
        assert client_ip(request()) == CLIENT

    @pytest.mark.parametrize(
        "header",
        [
            {"HTTP_X_FORWARDED_FOR": "203.0.113.9"},
            {"HTTP_X_REAL_IP": "203.0.113.9"},
            {"HTTP_FORWARDED": "for=203.0.113.9"},
        ],
    )
    def test_headers_a_client_can_write_are_ignored(self, header):
        assert client_ip(request(**header)) == CLIENT


class TestWithTrustedProxyAddresses:
    @pytest.fixture(autouse=True)
    def _trust(self, settings):
        settings.TRUSTED_PROXY_IPS = ["10.0.0.0/8"]

    def test_the_right_most_untrusted_entry_is_the_client(self):
        got = client_ip(request(PROXY, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {CLIENT}, 10.1.1.1"))
        assert got == CLIENT, "spoofed entries left of the client are never read"

    def test_a_request_not_from_a_trusted_proxy_keeps_its_peer(self):
        assert client_ip(request(CLIENT, HTTP_X_FORWARDED_FOR="203.0.113.9")) == CLIENT

    def test_an_entry_that_is_no_address_falls_back_to_the_peer(self):
        assert client_ip(request(PROXY, HTTP_X_FORWARDED_FOR="not-an-ip")) == PROXY


class TestWithATrustedProxyCount:
    @pytest.fixture(autouse=True)
    def _trust(self, settings):
        settings.TRUSTED_PROXY_COUNT = 1

    def test_the_entry_the_proxy_appended_is_the_client(self):
        assert client_ip(request(PROXY, HTTP_X_FORWARDED_FOR=f"6.6.6.6, 7.7.7.7, {CLIENT}")) == CLIENT

    def test_without_the_header_the_peer_is_the_client(self):
        assert client_ip(request(CLIENT)) == CLIENT

    def test_ipv6_addresses_are_kept_as_such(self):
        assert client_ip(request(PROXY, HTTP_X_FORWARDED_FOR="2001:db8::1")) == "2001:db8::1"


@pytest.mark.django_db(databases="__all__")
class TestEveryUserOfTheRule:
    def wrong_login(self, api, **headers):
        return api().post(
            LOGIN, {"email": "ada@example.com", "password": "wrong"}, REMOTE_ADDR=CLIENT, **headers
        )

    @pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED"])
    def test_rotating_a_forwarding_header_buys_no_fresh_login_budget(self, api, make_user, header):
        make_user(email="ada@example.com")
        statuses = [self.wrong_login(api, **{header: f"203.0.113.{n}"}).status_code for n in range(1, 8)]
        assert statuses == [401] * 5 + [429] * 2

    def test_registration_and_reset_budgets_hold_against_rotating_headers(self, api):
        register = [
            api()
            .post(
                "/api/v1/auth/register/",
                {"email": f"u{n}@example.com", "username": f"u{n}", "password": "x"},
                REMOTE_ADDR=CLIENT,
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            )
            .status_code
            for n in range(11)
        ]
        assert register[-1] == 429
        reset = [
            api()
            .post(
                "/api/v1/auth/password/reset/",
                {"email": "a@example.com"},
                REMOTE_ADDR=CLIENT,
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            )
            .status_code
            for n in range(6)
        ]
        assert reset[-1] == 429

    def test_login_events_and_the_audit_trail_record_the_same_address(self, api, make_user, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        make_user(email="ada@example.com")
        response = api().post(
            LOGIN,
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"6.6.6.6, {CLIENT}",
        )
        assert response.status_code == 200
        assert LoginEvent.objects.get().ip == CLIENT
        assert AuditLog.objects.get(action="user.login").ip == CLIENT

    def test_the_admin_login_form_counts_by_the_same_address(self, client, make_user):
        make_user(email="staff@example.com", is_staff=True)
        statuses = [
            client.post(
                "/admin/login/",
                {"username": "staff@example.com", "password": "wrong"},
                REMOTE_ADDR=CLIENT,
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            ).status_code
            for n in range(6)
        ]
        assert statuses == [200] * 5 + [429]
