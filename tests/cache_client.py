"""The Redis cache client of the test settings: `clear()` deletes this process's keys only."""

from django_redis.client import DefaultClient
from django_redis.client.default import _main_exceptions
from django_redis.exceptions import ConnectionInterrupted


class PrefixScopedClient(DefaultClient):
    def clear(self, client=None) -> None:
        # Every key under the cache's prefix, of any version; the throttle cache's prefix extends
        # the general cache's, so clearing that one clears both.
        if client is None:
            client = self.get_client(write=True)
        try:
            keys = list(client.scan_iter(match=f"{self._backend.key_prefix}:*", count=1000))
            if keys:
                client.unlink(*keys)
        except _main_exceptions as e:
            raise ConnectionInterrupted(connection=client) from e
