"""A short look at a worker's Redis before it starts: unreachable is an error that names the URL.

The frameworks find out for themselves only once their worker runs, each in its own way (a
traceback, a retry loop, a one-line exit). The probe connects with the framework's own client
settings, so what it reaches is what the worker would reach; the URL it prints has any
password masked.
"""

from __future__ import annotations

from typing import Any

import redis

from django_prodserver.errors import ProdserverError
from django_prodserver.masking import mask_secrets

PROBE_SECONDS = 3.0


def redis_location(client: redis.Redis) -> str:
    """`redis://user:password@host:port/db` (or `unix://path?db=N`) of a client, unmasked."""
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    db = kwargs.get("db") or 0
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={db}"
    scheme = "rediss" if issubclass(pool.connection_class, redis.SSLConnection) else "redis"
    credentials = ""
    if kwargs.get("username") or kwargs.get("password"):
        credentials = f"{kwargs.get('username') or ''}:{kwargs.get('password') or ''}@"
    return (
        f"{scheme}://{credentials}{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{db}"
    )


def probe_redis(client: redis.Redis, process: str, server: str, setting: str) -> None:
    """PING the server `client` talks to, within a few seconds; raise ProdserverError if not."""
    pool = client.connection_pool
    if not pool.connection_kwargs.get("host") and not pool.connection_kwargs.get("path"):
        return  # A Sentinel or cluster pool: its own client finds the server.
    kwargs: dict[str, Any] = {
        **pool.connection_kwargs,
        "socket_connect_timeout": PROBE_SECONDS,
        "socket_timeout": PROBE_SECONDS,
        "retry": None,
    }
    probe = redis.Redis(
        connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs)
    )
    try:
        probe.ping()
    except redis.RedisError as error:
        reason = str(error).rstrip(".") or type(error).__name__
        raise ProdserverError(
            mask_secrets(
                f"Process '{process}': {server} cannot reach its Redis at "
                f"{redis_location(client)}: {reason}.\n"
                f"Start Redis there, or point {setting} at a Redis that runs."
            )
        ) from error
    finally:
        probe.close()
