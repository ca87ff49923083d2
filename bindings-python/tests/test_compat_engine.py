"""The engine gaps dev-health-ops found, as the Python package exposes them: v1 tokens without
``license_id``, the exclusive license-feature mode, error reasons, limits by token names, host-side
org license records, seed export and ordered v1 signing, and the FastAPI glue's hooks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import pickle
import threading
from typing import Any, Dict, Optional, Tuple

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import dev_health_entitlements as dhe
from dev_health_entitlements import fastapi as dfa
from helpers import NOW, ZERO_PUBLIC, zero_key

V1: Dict[str, Any] = {
    "iss": "fullchaos.studio",
    "sub": "org_1",
    "iat": NOW - 86_400,
    "exp": NOW + 30 * 86_400,
    "tier": "team",
    "license_id": "lic_v1",
}


def verifier() -> dhe.Verifier:
    return dhe.Verifier(dhe.Keyring({"k": ZERO_PUBLIC}))


def v1_token(**changes: Any) -> str:
    return zero_key().sign_license_v1({**V1, **changes})


# 1. v1 tokens without license_id


def test_a_v1_token_without_license_id_gets_a_stable_id_that_revocation_can_name() -> None:
    token = v1_token(license_id=None)
    payload = json.loads(base64.b64decode(token.split(".")[0]))
    assert payload["license_id"] is None, "written as dev-health-ops writes it"
    lic = verifier().verify(token, NOW)
    digest = hashlib.sha512(token.encode()).hexdigest()[:32]
    assert lic.license_id == f"v1-sha512-{digest}"
    assert verifier().verify(token, NOW).license_id == lic.license_id
    revoking = dhe.Verifier(
        dhe.Keyring({"k": ZERO_PUBLIC}),
        revocation_list=dhe.RevocationList.from_ids([lic.license_id]),
    )
    with pytest.raises(dhe.LicenseError) as err:
        revoking.verify(token, NOW)
    assert err.value.code == "revoked"


# 2. the exclusive reading of a license's feature map


def test_the_exclusive_mode_makes_the_license_map_the_whole_answer() -> None:
    lic = verifier().verify(v1_token(features={"sso": True, "capacity_forecast": False}), NOW)
    for catalog, mode in (
        (dhe.Catalog.builtin("dev-health-ops-exclusive"), None),
        (dhe.Catalog.dev_health_ops(), "exclusive"),
    ):
        ent = dhe.Entitlements.resolve(
            catalog=catalog, license=lic, now=NOW, license_features=mode
        )
        assert ent.has("sso") and not ent.has("capacity_forecast") and not ent.has("webhooks")
        decision = ent.check("webhooks")
        assert decision.reason == "not_in_license" and decision.denial == "not_licensed"
        assert decision.required_tier == "team"
        assert ent.allowed_features == frozenset({"sso"})
    grants = dhe.Entitlements.resolve(catalog=dhe.Catalog.dev_health_ops(), license=lic, now=NOW)
    assert grants.has("webhooks") and not grants.has("sso")
    with pytest.raises(dhe.LicenseError) as err:
        dhe.Entitlements.resolve(license=lic, now=NOW, license_features="everything")
    assert err.value.code == "invalid_input"


def test_require_feature_answers_402_for_a_feature_the_license_does_not_name() -> None:
    lic = verifier().verify(v1_token(features={"sso": True}), NOW)
    ent = dhe.Entitlements.resolve(
        catalog=dhe.Catalog.dev_health_ops(), license=lic, now=NOW, license_features="exclusive"
    )
    app = FastAPI()

    @app.get("/hooks")
    @dfa.require_feature("webhooks")
    def hooks() -> Dict[str, bool]:
        return {"ok": True}

    with dfa.use_entitlements(ent), TestClient(app) as client:
        response = client.get("/hooks")
    assert response.status_code == 402
    detail = response.json()["detail"]
    assert detail["error"] == "feature_not_licensed"
    assert detail["feature"] == "webhooks"
    assert detail["current_tier"] == "team"


# 3. machine-readable error reasons


@pytest.mark.parametrize(
    "token, code, reason",
    [
        ("!!!!.AAAA", "malformed_token", "invalid_base64"),
        ("a.b.c.d", "malformed_token", "wrong_part_count"),
        ("", "malformed_token", "empty"),
        (base64.b64encode(b"{}").decode() + "." + base64.b64encode(bytes(64)).decode(),
         "invalid_signature", "signature_mismatch"),
        ("eyJhbGciOiJub25lIn0.e30.", "unsupported_algorithm", None),
    ],
)
def test_errors_carry_a_reason_refining_the_code(
    token: str, code: str, reason: Optional[str]
) -> None:
    with pytest.raises(dhe.LicenseError) as err:
        verifier().verify(token, NOW)
    assert (err.value.code, err.value.reason) == (code, reason)
    copy = pickle.loads(pickle.dumps(err.value))
    assert (copy.code, copy.message, copy.reason) == (code, err.value.message, reason)


def test_a_payload_that_is_not_json_is_invalid_claims_with_reason_invalid_json() -> None:
    body = b"tier=enterprise"
    token = (
        base64.b64encode(body).decode()
        + "."
        + base64.b64encode(_sign_raw(body)).decode()
    )
    with pytest.raises(dhe.LicenseError) as err:
        verifier().verify(token, NOW)
    assert (err.value.code, err.value.reason) == ("invalid_claims", "invalid_json")


def _sign_raw(message: bytes) -> bytes:
    from nacl.signing import SigningKey

    return bytes(SigningKey(bytes(32)).sign(message).signature)


# 4. limits by the names tokens use; the unlimited marker


def test_limits_answer_to_token_names_and_the_unlimited_marker_is_exposed() -> None:
    ent = dhe.Entitlements.resolve(
        catalog=dhe.Catalog.dev_health_ops(), org_tier="team", now=NOW
    )
    assert ent.check_limit("users", 20).allowed and not ent.check_limit("users", 21).allowed
    assert ent.check_limit("users", 21).maximum == 20
    assert ent.check_limit("repos", 10).maximum == 10
    assert ent.check_limit("api_rate", 501).reason == "limit_exceeded"
    assert dhe.UNLIMITED == -1


# 7. host-side org license records


def test_an_org_license_record_stands_where_a_license_would() -> None:
    record = {"tier": "enterprise", "features": {"ask_dev": True}, "limits": {"users": 100}}
    ent = dhe.Entitlements.resolve(
        catalog=dhe.Catalog.dev_health_ops(),
        org_id="org_1",
        org_tier="team",
        org_license=record,
        now=NOW,
    )
    assert ent.tier == "enterprise"
    assert ent.check("ask_dev").reason == "enabled_by_license_override"
    assert ent.check_limit("max_users", 100).allowed
    assert not ent.check_limit("max_users", 101).allowed
    with pytest.raises(dhe.LicenseError) as err:
        dhe.Entitlements.resolve(org_license={"tier": "platinum"}, now=NOW)
    assert err.value.code == "invalid_input" and "platinum" in err.value.message


def test_the_fastapi_org_loader_may_return_an_org_license_record() -> None:
    def load(org_id: str) -> dfa.OrgRecord:
        return dfa.OrgRecord(tier="community", org_license={"tier": "enterprise"})

    licensing = dfa.Licensing(org_loader=load, instance_license_from_env=False, clock=lambda: NOW)
    context = asyncio.run(licensing.context_for_org("org_9"))
    assert context.entitlements.tier == "enterprise"
    assert context.entitlements.has("sso_saml")


# 8. keys and ordered v1 signing


def test_a_signing_key_exports_its_seed() -> None:
    key = dhe.SigningKey.generate()
    assert len(key.seed()) == 32
    assert dhe.SigningKey.from_seed(key.seed()).public_key == key.public_key
    assert base64.b64decode(key.seed_base64()) == key.seed()
    assert zero_key().seed_base64() == base64.b64encode(bytes(32)).decode()


def test_v1_signing_keeps_the_feature_order_of_the_dict() -> None:
    features = {"webhooks": True, "api_access": False, "audit_log": True}
    token = v1_token(features=features)
    payload = base64.b64decode(token.split(".")[0]).decode()
    assert '"features":{"webhooks":true,"api_access":false,"audit_log":true}' in payload
    assert verifier().verify(token, NOW).claims["features"] == features


# 6. FastAPI glue


def test_require_limit_keeps_a_sync_endpoint_sync_and_accepts_a_zero_argument_getter() -> None:
    threads: Dict[str, str] = {}

    def count() -> int:
        threads["get_current"] = threading.current_thread().name
        return 4

    requirement = dfa.require_limit("users", count, raise_http=False)

    @requirement
    def invite() -> str:
        threads["endpoint"] = threading.current_thread().name
        return "invited"

    assert not asyncio.iscoroutinefunction(invite)
    team = dhe.Entitlements.resolve(catalog=dhe.Catalog.dev_health_ops(), org_tier="team", now=NOW)
    with dfa.use_entitlements(team):
        assert invite() == "invited"
    assert threads["get_current"] == threads["endpoint"]
    community = dhe.Entitlements.resolve(catalog=dhe.Catalog.default(), now=NOW)
    with dfa.use_entitlements(community), pytest.raises(dhe.LimitExceeded) as err:
        invite()
    assert (err.value.limit_name, err.value.current, err.value.maximum) == ("users", 4, 3)


def test_a_sync_endpoint_with_an_async_getter_is_refused_clearly() -> None:
    async def count() -> int:
        return 1

    @dfa.require_limit("max_users", count)
    def invite() -> str:
        return "invited"

    with pytest.raises(TypeError, match="get_current is async"):
        invite()


def test_require_feature_takes_the_hosts_org_lookup_and_its_check_can_be_replaced() -> None:
    orgs = {
        "org_team": dhe.Entitlements.resolve(org_id="org_team", org_tier="team", now=NOW),
        "org_free": dhe.Entitlements.resolve(org_id="org_free", now=NOW),
    }

    def lookup(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[dhe.Entitlements]:
        return orgs.get(str(kwargs.get("org_id")))

    requirement = dfa.require_feature("webhooks", raise_http=False, org_lookup=lookup)

    @requirement
    def hooks(org_id: str) -> str:
        return org_id

    assert hooks(org_id="org_team") == "org_team"
    with pytest.raises(dhe.FeatureNotLicensed) as err:
        hooks(org_id="org_free")
    assert err.value.required_tier == "team" and err.value.current_tier == "community"

    seen = []

    def allow_all(context: Optional[dfa.RequestEntitlements] = None) -> None:
        seen.append(context.org_id if context is not None else None)

    requirement.check = allow_all  # type: ignore[method-assign]
    assert hooks(org_id="org_free") == "org_free"
    assert seen == ["org_free"]
