import pytest

from apps.notifications import kinds
from apps.notifications.kinds import Kind
from apps.notifications.models import Category, Channel


@pytest.fixture
def register_kind():
    """`register_kind(Kind(...))` for one test; the registry is as it was afterwards."""
    added = []

    def register(kind: Kind) -> Kind:
        added.append(kind.key)
        return kinds.register(kind)

    yield register
    for key in added:
        kinds._kinds.pop(key, None)


@pytest.fixture
def sms_kind(register_kind):
    """An SMS message to a fixed number, with a template that uses one variable."""
    from apps.notifications.models import SMSTemplate

    SMSTemplate.objects.create(key="test_sms", body="Your code is {{ code }}.")
    return register_kind(
        Kind(
            "test_sms",
            Category.ACCOUNT,
            channels=(Channel.SMS,),
            transactional=True,
            address=lambda user, context, channel: "+447700900123",
        )
    )
