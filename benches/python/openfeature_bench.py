"""The cost of one boolean flag evaluation through the OpenFeature SDK (``openfeature-sdk`` with
``EntitlementsProvider``) against calling ``Entitlements.has`` directly, and where it goes: the
provider alone (resolving the org from the context on every call, as the provider must) and
``Entitlements.resolve`` + ``has``.

Run with ``make bench-openfeature`` (a release build of the native module). Prints nanoseconds
per call and the ratio; timing never fails the run.
"""

from __future__ import annotations

import timeit
from typing import Any, Callable, Dict

from openfeature import api
from openfeature.evaluation_context import EvaluationContext

import dev_health_entitlements as dhe
from dev_health_entitlements.openfeature import EntitlementsProvider


def best_of(stmts: Dict[str, Callable[[], Any]], number: int, rounds: int = 25) -> Dict[str, float]:
    """Seconds per call: the best of `rounds` batches, the statements taking turns."""
    timers = {name: timeit.Timer(stmt) for name, stmt in stmts.items()}
    best = {name: float("inf") for name in stmts}
    for _ in range(rounds):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(number) / number)
    return best


def main() -> None:
    provider = EntitlementsProvider()
    api.set_provider(provider)
    client = api.get_client()
    context = EvaluationContext("org_acme", {"tier": "team"})
    ent = dhe.Entitlements.resolve(org_id="org_acme", org_tier="team")
    assert client.get_boolean_value("capacity_forecast", False, context) is ent.has("capacity_forecast")
    results = best_of(
        {
            "OpenFeature client.get_boolean_value": lambda: client.get_boolean_value(
                "capacity_forecast", False, context
            ),
            "provider.resolve_boolean_details": lambda: provider.resolve_boolean_details(
                "capacity_forecast", False, context
            ),
            "Entitlements.resolve + has": lambda: dhe.Entitlements.resolve(
                org_id="org_acme", org_tier="team"
            ).has("capacity_forecast"),
            "Entitlements.has": lambda: ent.has("capacity_forecast"),
        },
        number=2_000,
    )
    print("Python: one boolean evaluation (ns per call, best of 25 batches)")
    for name, seconds in results.items():
        print(f"  {name:<40} {seconds * 1e9:>10.0f}")
    sdk = results["OpenFeature client.get_boolean_value"]
    has = results["Entitlements.has"]
    print(f"  ratio SDK / has: {sdk / has:.0f}x")


if __name__ == "__main__":
    main()
