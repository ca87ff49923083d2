"""Every conformance vector of tests/vectors (files 1-6 of the format), every expected field
compared exactly (as canonical JSON, so 3 and 3.0, or true and 1, differ); an error case checks
only the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, TypeVar, cast

import pytest

import dev_health_entitlements as dhe

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"
FILES = (
    "verify.json",
    "entitlements.json",
    "rbac.json",
    "sessions.json",
    "stripe_signatures.json",
    "stripe_events.json",
)

Case = Dict[str, Any]


def load(name: str) -> List[Case]:
    cases: List[Case] = json.loads((VECTORS / name).read_text())["cases"]
    assert cases, f"{name} has no cases"
    return cases


F = TypeVar("F", bound=Callable[..., None])


def cases_of(name: str) -> Callable[[F], F]:
    """Parametrizes a test with every case of a vector file, named after the cases."""
    mark = pytest.mark.parametrize("case", load(name), ids=lambda c: str(c["name"]))
    return cast(Callable[[F], F], mark)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def assert_same(actual: Any, expected: Any, what: str) -> None:
    assert canonical(actual) == canonical(expected), what


def expect_error(case: Case, call: Callable[[], Any]) -> None:
    with pytest.raises(dhe.LicenseError) as err:
        call()
    assert err.value.code == case["expect"]["error"]


# The Wycheproof suite has its own runner (test_wycheproof.py); it is not an API vector file.
NOT_API_VECTORS = {"wycheproof_ed25519.json"}


def test_every_vector_file_is_present_and_run() -> None:
    # Every file of the directory, so a new one without a runner here fails instead of being skipped.
    names = {p.name for p in VECTORS.glob("*.json")} - NOT_API_VECTORS
    assert sorted(names - set(FILES)) == [], "vector files without a runner in this module"
    assert sorted(set(FILES) - names) == [], "vector files missing from tests/vectors"
    total = sum(len(load(f)) for f in FILES)
    assert total >= 100


# 1. verify.json


def verifier_for(case: Case) -> dhe.Verifier:
    keyring = dhe.Keyring.from_jwks(case["jwks"])
    options = case.get("options", {})
    issuer: Optional[str] = options.get("issuer")
    revocations: Optional[dhe.RevocationList] = None
    if "revocation_list" in options:
        revocations = dhe.RevocationList.verify(
            options["revocation_list"],
            keyring,
            issuer=issuer if issuer is not None else dhe.DEFAULT_ISSUER,
            now=case["now"],
        )
    catalog = options.get("catalog")
    return dhe.Verifier(
        keyring,
        issuer=issuer,
        leeway=options.get("leeway"),
        accept_v1=options.get("accept_v1", True),
        deployment_id=options.get("deployment_id"),
        catalog=dhe.Catalog.builtin(catalog) if catalog is not None else None,
        revocation_list=revocations,
        high_water_mark=options.get("high_water_mark"),
    )


@cases_of("verify.json")
def test_verify(case: Case) -> None:
    verifier = verifier_for(case)
    if "error" in case["expect"]:
        expect_error(case, lambda: verifier.verify(case["token"], case["now"]))
        return
    lic = verifier.verify(case["token"], case["now"])
    actual = {
        "status": lic.status,
        "format": lic.format,
        "kid": lic.kid,
        "tier": lic.tier,
        "sub": lic.sub,
        "license_id": lic.license_id,
        "license_type": lic.license_type,
        "expires_at": lic.expires_at,
        "grace_ends_at": lic.grace_ends_at,
        "grace_days_left": lic.grace_days_left(case["now"]),
    }
    assert_same(actual, case["expect"], case["name"])
    assert lic.status_at(case["now"]) == lic.status


# 2. entitlements.json


def resolve(case: Case) -> dhe.Entitlements:
    lic = None
    if case.get("license") is not None:
        keyring = dhe.Keyring.from_jwks(case["jwks"])
        lic = dhe.Verifier(keyring).verify(case["license"], case["now"])
    return dhe.Entitlements.resolve(
        catalog=dhe.Catalog.builtin(case["catalog"]),
        license=lic,
        org_id=case.get("org_id"),
        org_tier=case.get("org_tier"),
        overrides=case.get("overrides", []),
        kill_switches=case.get("kill_switches", {}),
        now=case["now"],
    )


@cases_of("entitlements.json")
def test_entitlements(case: Case) -> None:
    ent = resolve(case)
    expect = case["expect"]
    assert ent.tier == expect["tier"]
    for want in expect["decisions"]:
        decision = ent.check(want["feature"]).to_dict()
        del decision["current_tier"]
        assert_same(decision, want, f"decision {want['feature']}")
        assert ent.has(want["feature"]) is want["allowed"]
    for want in expect["limits"]:
        got = ent.check_limit(want["limit"], want["current"]).to_dict()
        actual = {k: got[k] for k in ("limit", "current", "allowed", "maximum", "reason")}
        assert_same(actual, want, f"limit {want['limit']} at {want['current']}")
    for want in expect["gates"]:
        gate = ent.upgrade_gate(want["feature"], want.get("required_tier")).to_dict()
        del gate["current_tier"]
        assert_same(gate, want, f"gate {want['feature']}")
    assert_same(ent.to_dict(), expect["json"], "to_dict")


# 3. rbac.json


@cases_of("rbac.json")
def test_rbac(case: Case) -> None:
    catalog = dhe.Catalog.builtin(case["catalog"])
    assert catalog.can(case["role"], case["permission"]) is case["allowed"]
    ent = dhe.Entitlements.resolve(catalog=catalog, now=0)
    assert ent.can(case["role"], case["permission"]) is case["allowed"]


# 4. sessions.json


@cases_of("sessions.json")
def test_sessions(case: Case) -> None:
    verifier = dhe.SessionVerifier(
        dhe.Keyring.from_jwks(case["jwks"]), hs256_secret=case.get("hs256_secret")
    )
    if "error" in case["expect"]:
        expect_error(case, lambda: verifier.verify(case["token"], case["now"]))
        return
    session = verifier.verify(case["token"], case["now"])
    actual = {
        "sub": session.sub,
        "email": session.email,
        "org_id": session.org_id,
        "role": session.role,
        "is_superuser": session.is_superuser,
    }
    assert_same(actual, case["expect"], case["name"])


# 5. stripe_signatures.json


@cases_of("stripe_signatures.json")
def test_stripe_signatures(case: Case) -> None:
    def call() -> int:
        return dhe.verify_stripe_signature(
            case["payload"].encode(),
            case["header"],
            case["secrets"],
            now=case["now"],
            tolerance=case["tolerance"],
        )

    if "error" in case["expect"]:
        expect_error(case, call)
        return
    assert_same({"timestamp": call()}, case["expect"], case["name"])


# 6. stripe_events.json


@cases_of("stripe_events.json")
def test_stripe_events(case: Case) -> None:
    ledger = dhe.BillingLedger(case["orgs"])
    outcomes = [
        ledger.apply(dhe.StripeEvent.from_dict(event), case["config"]) for event in case["events"]
    ]
    expect = case["expect"]
    assert_same(outcomes, expect["outcomes"], "outcomes")
    assert_same(ledger.orgs, expect["orgs"], "orgs")
    assert_same(ledger.revoked_license_ids, expect["revoked_license_ids"], "revoked")
