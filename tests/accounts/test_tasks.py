from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.tasks import flush_expired_tokens

pytestmark = pytest.mark.django_db


def test_flush_removes_only_expired_refresh_tokens(make_user):
    user = make_user()
    live = RefreshToken.for_user(user)
    expired = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=expired["jti"]).update(expires_at=timezone.now() - timedelta(days=1))
    flush_expired_tokens.delay()
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
