"""What only the people running the service see: the OpenAPI schema, the API docs, and which
dependency the readiness probe found failing (and how fast each answered).

Together they map every endpoint and the infrastructure behind them, so in production they are
served to clients from `INTERNAL_NETWORKS` (loopback unless set) and to staff signed in to the
admin. Anyone else gets the 404 an unknown URL gets, and the readiness probe's status code (and
`{"status": ...}`) without its details: enough for a load balancer, nothing for a scanner.
"""

import ipaddress
from functools import lru_cache, wraps

from django.conf import settings

from apps.core.client_address import client_in
from apps.core.exceptions import page_not_found


@lru_cache(maxsize=8)
def _is_everyone(networks: tuple[str, ...]) -> bool:
    # Then a request with no peer address at all (a WSGI caller that sets none) is let in too.
    given = {ipaddress.ip_network(network.strip(), strict=False) for network in networks}
    return {ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")} <= given


def sees_internals(request) -> bool:
    networks = settings.INTERNAL_NETWORKS
    if _is_everyone(tuple(networks)) or client_in(request, networks):
        return True
    user = getattr(request, "user", None)  # the admin's session (AuthenticationMiddleware)
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def internal_only(view):
    """`view` for those who `sees_internals`; a 404 for anyone else."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not sees_internals(request):
            return page_not_found(request)
        return view(request, *args, **kwargs)

    return wrapped
