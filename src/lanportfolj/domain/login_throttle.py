"""How long a login attempt must wait: pure rules, no clock, no database.

Failures are counted per (account, client) and per client. The account key is the e-mail address as
typed (normalised), known or not, so an unknown address is throttled exactly like a real one and the
answer reveals nothing. A client is an address: the attacker's failures from one client never slow the
owner down on another, so nobody can lock a victim out from anywhere.

- Per (account, client): the first ``free`` failures cost nothing; after that each attempt waits
  ``first_delay`` seconds after the latest failure, doubling with every further failure, up to
  ``longest_delay``.
- Per client: ``client_cap`` failures within ``client_window`` seconds (for any accounts) and the client
  is refused until the oldest of them leaves the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottleRules:
    free: int
    first_delay: int
    longest_delay: int
    client_cap: int
    client_window: int

    @property
    def memory(self) -> timedelta:
        """How long a failure is remembered: long enough that waiting out the longest delay does not
        wipe the count (else the delay would never grow past a few steps)."""
        return timedelta(seconds=max(self.longest_delay * 4, self.client_window, 3600))


def pair_delay(failures: int, rules: ThrottleRules) -> int:
    """Seconds an attempt must wait after the latest of ``failures`` for one (account, client)."""
    if failures < rules.free:
        return 0
    # bounded exponent: 2**60 seconds is already beyond any longest delay
    return min(rules.first_delay * 2 ** min(failures - rules.free, 60), rules.longest_delay)


def retry_after(
    *,
    pair_failures: int,
    pair_latest: datetime | None,
    client_failures: list[datetime],
    now: datetime,
    rules: ThrottleRules,
) -> int:
    """Seconds until an attempt may be tried (0: now). ``client_failures`` are the client's failures
    within the client window, oldest first."""
    wait = 0
    if len(client_failures) >= rules.client_cap:
        # the window slides: the attempt may come once enough old failures have left it
        leaving = client_failures[len(client_failures) - rules.client_cap]
        wait = max(wait, _seconds_until(leaving + timedelta(seconds=rules.client_window), now))
    if pair_latest is not None:
        delay = pair_delay(pair_failures, rules)
        if delay:
            wait = max(wait, _seconds_until(pair_latest + timedelta(seconds=delay), now))
    return wait


def _seconds_until(moment: datetime, now: datetime) -> int:
    left = (moment - now).total_seconds()
    # rounded up: "try again in 0 seconds" while still refused would be a lie
    return max(0, int(-(-left // 1)))
