"""The login throttle's rules (``domain.login_throttle``) and how the client address is found
(``web.auth.client_address``): pure functions, no clock, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lanportfolj.domain.login_throttle import ThrottleRules, pair_delay, retry_after
from lanportfolj.web.auth import client_address, trusted_networks

pytestmark = pytest.mark.unit

RULES = ThrottleRules(free=5, first_delay=30, longest_delay=900, client_cap=20, client_window=900)
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (4, 0), (5, 30), (6, 60), (7, 120), (9, 480), (10, 900), (11, 900), (10_000, 900)],
)
def test_the_delay_starts_after_the_free_attempts_and_doubles_up_to_the_longest(
    failures: int, delay: int
) -> None:
    assert pair_delay(failures, RULES) == delay


def test_the_wait_counts_from_the_latest_failure() -> None:
    latest = NOW - timedelta(seconds=10)
    wait = retry_after(
        pair_failures=5, pair_latest=latest, client_failures=[], now=NOW, rules=RULES
    )
    assert wait == 20
    later = NOW + timedelta(seconds=20)
    assert (
        retry_after(pair_failures=5, pair_latest=latest, client_failures=[], now=later, rules=RULES)
        == 0
    )


def test_the_client_cap_refuses_until_the_oldest_failure_leaves_the_window() -> None:
    failures = [NOW - timedelta(seconds=600 - i) for i in range(20)]
    wait = retry_after(
        pair_failures=0, pair_latest=None, client_failures=failures, now=NOW, rules=RULES
    )
    assert wait == 300  # the oldest (600 s ago) leaves the 900 s window in 300 s
    assert (
        retry_after(
            pair_failures=0, pair_latest=None, client_failures=failures[1:], now=NOW, rules=RULES
        )
        == 0
    )


def test_the_longer_of_both_waits_applies() -> None:
    failures = [NOW - timedelta(seconds=890)] * 20
    wait = retry_after(
        pair_failures=10,
        pair_latest=NOW - timedelta(seconds=1),
        client_failures=failures,
        now=NOW,
        rules=RULES,
    )
    assert wait == 899


def test_failures_are_remembered_longer_than_the_longest_delay() -> None:
    assert RULES.memory >= timedelta(seconds=RULES.longest_delay * 2)


def _scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"client": (peer, 1234), "headers": headers}


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address(_scope("198.51.100.1", "10.9.9.9"), ()) == "198.51.100.1"


def test_a_trusted_proxy_names_the_nearest_untrusted_hop() -> None:
    trusted = trusted_networks("10.0.0.1, 10.1.0.0/16")
    assert client_address(_scope("10.0.0.1", "203.0.113.5"), trusted) == "203.0.113.5"
    assert client_address(_scope("10.0.0.1", "1.2.3.4, 203.0.113.5"), trusted) == "203.0.113.5"
    assert client_address(_scope("10.0.0.1", "203.0.113.5, 10.1.4.4"), trusted) == "203.0.113.5"
    # not from the proxy: the header is the client's own claim
    assert client_address(_scope("198.51.100.1", "203.0.113.5"), trusted) == "198.51.100.1"
    # garbage in the header: the last believable address
    assert client_address(_scope("10.0.0.1", "<script>, 10.1.4.4"), trusted) == "10.1.4.4"
    assert client_address(_scope("10.0.0.1"), trusted) == "10.0.0.1"


def test_a_bad_trusted_proxies_entry_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"'proxy\.example' is not an IP address or network"):
        trusted_networks("10.0.0.1, proxy.example")
