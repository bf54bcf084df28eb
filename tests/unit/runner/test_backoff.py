from django_prodserver.runner.backoff import Backoff


def highest(low: float, high: float) -> float:
    return high


def lowest(low: float, high: float) -> float:
    return low


def test_delays_double_up_to_the_cap():
    backoff = Backoff(first=0.5, longest=30, uniform=highest)
    delays = [backoff.after_run(0.1) for _ in range(10)]
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]


def test_jitter_stays_between_half_and_the_whole_delay():
    backoff = Backoff(first=1, longest=30)
    for ceiling in (1, 2, 4, 8, 16, 30, 30):
        assert ceiling / 2 <= backoff.after_run(0) <= ceiling


def test_below_the_cap_no_delay_is_shorter_than_the_one_before():
    for failures in range(5):
        longest_now = Backoff(failures=failures, uniform=highest).after_run(0)
        shortest_next = Backoff(failures=failures + 1, uniform=lowest).after_run(0)
        assert shortest_next >= longest_now


def test_a_healthy_run_starts_over():
    backoff = Backoff(first=0.5, healthy_run=10, uniform=highest)
    for _ in range(4):
        backoff.after_run(1)
    assert backoff.after_run(9.9) == 8
    assert backoff.after_run(10) == 0.5
    assert backoff.failures == 1
