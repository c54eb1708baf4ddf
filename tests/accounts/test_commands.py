import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User

pytestmark = pytest.mark.django_db


def test_ensure_dev_admin_creates_a_superuser_once_and_prints_its_password(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("ensure_dev_admin", stdout=out)
    password = re.search(r"password: (\S+)", out.getvalue()).group(1)
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser and admin.check_password(password)

    again = StringIO()
    call_command("ensure_dev_admin", stdout=again)
    assert "already exists" in again.getvalue()
    assert User.objects.filter(is_superuser=True).count() == 1


def test_the_dev_admins_password_is_framed_at_the_end_of_the_output(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("ensure_dev_admin", stdout=out, no_color=True)
    lines = out.getvalue().rstrip("\n").splitlines()
    assert set(lines[0]) == {"="} and lines[-1] == lines[0]
    assert any(line.strip().startswith("password: ") for line in lines[1:-1])


def test_ensure_dev_admin_refuses_outside_development(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("ensure_dev_admin")
    assert not User.objects.exists()
