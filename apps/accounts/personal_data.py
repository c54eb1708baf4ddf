"""What the apps above accounts hold about a person, and what they do when that person leaves.

Accounts owns closing, erasing and exporting an account (apps/accounts/services/deletion.py and
export.py), but bookings and products stand above it and may not be imported here. So each such app
registers a `PersonalData` holder when it loads, naming what to do at each step:

- `close(user, request)`: in the closing transaction, the account already inactive (bookings: the
  future active ones are cancelled, the other party told);
- `erase(user)`: in the erasing transaction, before the user row is anonymised;
- `export(user, limit)`: the holder's sections of the personal data export, each list at most
  `limit` rows (one more tells the caller it was cut), in a constant number of queries.

    register(PersonalData("bookings", close=..., erase=..., export=...))
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# One section of an export: a JSON object or a list of them.
Section = Mapping[str, Any] | list[Mapping[str, Any]] | None


@dataclass(frozen=True)
class PersonalData:
    name: str
    close: Callable[[Any, Any], None] | None = None
    erase: Callable[[Any], None] | None = None
    export: Callable[[Any, int], dict[str, Section]] | None = None


_holders: dict[str, PersonalData] = {}


def register(holder: PersonalData) -> PersonalData:
    if holder.name in _holders and _holders[holder.name] != holder:
        raise ValueError(f"Personal data holder {holder.name!r} is registered twice.")
    _holders[holder.name] = holder
    return holder


def holders() -> list[PersonalData]:
    return sorted(_holders.values(), key=lambda holder: holder.name)
