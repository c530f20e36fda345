"""The API against generated input: schemathesis reads the app's own OpenAPI document and sends well-formed
and malformed requests to every operation, as an analyst with a bearer token, through ASGI (no network).

Nothing may answer 5xx, and every 4xx must say why: a ``detail`` message (the imports endpoint's 422 carries
its list of ``errors``, each with a ``message``). The test prints the cases tried and the 5xx seen.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlmodel import col, select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Loan
from lanportfolj.services import users
from lanportfolj.web.app import create_app

# slow: `.ci/run` runs it as a step of its own; `make test` leaves it out
pytestmark = [pytest.mark.integration, pytest.mark.slow]

KOLADA_FIXTURES = Path(__file__).parents[1] / "fixtures" / "kolada"
#: Generated cases per operation and mode (well-formed, malformed); well-formed and malformed, and well-formed
#: for an existing loan where the path names one; fewer where little can vary.
EXAMPLES = 45
MIN_CASES = 1_000


def _says_why(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if isinstance(body.get("detail"), str) and body["detail"].strip():
        return True
    errors = body.get("errors")
    return (
        isinstance(errors, list)
        and bool(errors)
        and all(isinstance(e, dict) and str(e.get("message") or "").strip() for e in errors)
    )


@dataclass
class Tally:
    tried: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)


def _exercise(strategy: Any, auth: dict[str, str], tally: Tally, label: str) -> None:
    """Send ``EXAMPLES`` generated cases of one operation and keep what came back."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=auth)
        tally.tried[label] += 1
        tally.statuses[response.status_code] += 1
        where = f"{case.method} {case.formatted_path} [{label}]"
        if response.status_code >= 500:
            tally.server_errors.append(f"{where} → {response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            if not _says_why(body):
                tally.unexplained.append(f"{where} → {response.status_code}: {response.text[:200]}")

    run()


def test_generated_requests_never_fail_on_the_server(demo_settings, figures) -> None:
    started = time.monotonic()
    # the Kolada operation answers from recorded responses: traffic stays on this machine
    the_settings = dataclasses.replace(
        demo_settings, kolada_fixtures=str(KOLADA_FIXTURES), kolada_base_url="http://127.0.0.1:9"
    )
    engine = make_engine(the_settings)
    with session_scope(engine) as db:
        users.ensure_demo_users(db)
        analyst = users.find_user(db, "analys@demo.lanportfolj.se")
        assert analyst is not None
        _, token = users.create_token(db, user=analyst, name="schemathesis", actor="test")
        reference = db.exec(select(Loan.reference).order_by(col(Loan.reference))).first()
        assert reference, "the demo has no loans"
    app = create_app(the_settings, engine=engine)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    auth = {"Authorization": f"Bearer {token}"}

    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the schema lists fewer API operations than expected"
    for operation in operations:
        runs: list[tuple[str, Any]] = [
            ("well-formed", operation.as_strategy(generation_mode=GenerationMode.POSITIVE)),
            ("malformed", operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)),
        ]
        if "{reference}" in operation.path:
            # a loan that exists, so the generated queries and bodies reach the handler's own checks
            fixed = {"reference": reference}
            strategy = operation.as_strategy(path_parameters=fixed)
            runs.append(("well-formed, demo loan", strategy))
        for kind, strategy in runs:
            try:
                _exercise(strategy, auth, tally, f"{operation.label} ({kind})")
            except Unsatisfiable:
                # nothing malformed to generate (an operation without parameters or body)
                assert kind == "malformed", operation.label
    engine.dispose()
    total = sum(tally.tried.values())
    statuses = tally.statuses
    elapsed = time.monotonic() - started
    figures(
        f"schemathesis: {total} cases over {len(operations)} operations in {elapsed:.1f} s; "
        f"5xx seen: {len(tally.server_errors)}; 4xx without a message: {len(tally.unexplained)}; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    assert tally.server_errors == [], "\n".join(tally.server_errors[:10])
    assert tally.unexplained == [], "\n".join(tally.unexplained[:10])
    assert total >= MIN_CASES
    # the token works: generated requests reach the handlers, and some succeed
    assert statuses[401] == 0
    assert sum(n for status, n in statuses.items() if status < 300) > 0
