"""The short Redis probe the worker backends run before they start."""

from __future__ import annotations

import pytest
import redis

from django_prodserver.errors import ProdserverError
from django_prodserver.preflight.redis import probe_redis, redis_location
from tests.support import free_port


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
        ("redis://:pw@cache.internal:6380/2", "redis://:pw@cache.internal:6380/2"),
        ("redis://app:pw@cache.internal/1", "redis://app:pw@cache.internal:6379/1"),
        ("rediss://:pw@cache.internal:6380", "rediss://:pw@cache.internal:6380/0"),
        ("unix:///run/redis.sock?db=3", "unix:///run/redis.sock?db=3"),
    ],
)
def test_location_of_a_client(url, location):
    assert redis_location(redis.Redis.from_url(url)) == location


def test_an_unreachable_redis_is_an_error_with_the_password_masked():
    port = free_port()
    client = redis.Redis.from_url(f"redis://app:hunter2@127.0.0.1:{port}/1")
    with pytest.raises(ProdserverError) as error:
        probe_redis(client, "worker", "RQ", "RQ_QUEUES")
    assert str(error.value) == (
        f"Process 'worker': RQ cannot reach its Redis at redis://app:********@127.0.0.1:{port}/1: "
        f"Error 111 connecting to 127.0.0.1:{port}. Connection refused.\n"
        f"Start Redis there, or point RQ_QUEUES at a Redis that runs."
    )


def test_a_missing_unix_socket_is_an_error(tmp_path):
    client = redis.Redis(unix_socket_path=str(tmp_path / "redis.sock"))
    with pytest.raises(
        ProdserverError, match=r"cannot reach its Redis at unix://.*redis.sock\?db=0"
    ):
        probe_redis(client, "worker", "Huey", "HUEY")


def test_a_running_redis_passes(redis_url):
    probe_redis(redis.Redis.from_url(redis_url), "worker", "RQ", "RQ_QUEUES")
