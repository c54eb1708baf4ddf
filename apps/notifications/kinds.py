"""Every message the product sends is a `Kind`, registered by the app that sends it.

A kind names its key (its templates: `templates/notifications/<key>/` for email and in-app, the
`SMSTemplate` of the same key for SMS), its category (which preference applies), the channels it
goes out on unless the caller names others, and whether it is transactional: a transactional
message (a reset link, a code) goes out whatever the preferences say, since the user asked for it.

`send_context(notification)` runs in the delivery task, at send time: it adds values that must not
wait in a queue or a table (one-time links and codes, made fresh) and names them in `secret`, so
the stored copy of the message shows them masked. It raises `NotNeeded` when the message has lost
its point meanwhile (the address it would verify is verified): the row ends `failed` with that
reason and nothing is sent. `address(user, context, channel)` runs when the message is asked for:
where that channel's copy goes (the account's email address, its verified phone number), or None
to skip the channel. An inactive account is sent nothing, except the kinds marked
`reaches_inactive` (the way back into a closed account).

    register(Kind("low_stock", Category.CATALOG, channels=(Channel.EMAIL, Channel.IN_APP)))
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from apps.notifications.models import Category, Channel


class NotNeeded(Exception):
    """Raised by `send_context`: the message is no longer worth sending; the text says why."""


def default_address(user, context: dict, channel: str) -> str | None:
    if channel == Channel.EMAIL:
        return user.email or None
    if channel == Channel.SMS:
        return str(user.phone) if user.is_phone_verified else None
    return ""  # in-app: the inbox is the address


@dataclass(frozen=True)
class Kind:
    key: str
    category: str
    channels: tuple[str, ...] = (Channel.EMAIL,)
    transactional: bool = False
    description: str = ""
    send_context: Callable[..., dict] | None = None
    secret: tuple[str, ...] = ()
    address: Callable[..., str | None] = default_address
    # Values for the admin's preview of an SMS template, one per variable it may use.
    sample_context: dict = field(default_factory=dict)
    # Delivered to an inactive account too: the messages about closing it and coming back.
    reaches_inactive: bool = False


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if kind.key in _kinds and _kinds[kind.key] != kind:
        raise ValueError(f"Notification kind {kind.key!r} is registered twice.")
    unknown = set(kind.channels) - set(Channel.values)
    if unknown or kind.category not in Category.values:
        raise ValueError(f"Notification kind {kind.key!r}: unknown category or channels {unknown}.")
    _kinds[kind.key] = kind
    return kind


def get(key: str) -> Kind:
    try:
        return _kinds[key]
    except KeyError:
        raise LookupError(f"No notification kind {key!r} is registered.") from None


def all_kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda kind: kind.key)
