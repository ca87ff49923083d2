"""``dev_health_entitlements.compat.dev_health_ops``: dev-health-ops' licensing package over the
engine. Where dev-health-ops' own behaviour is the reference, the peer in
``benches/python/dev_health_ops_peer.py`` (its validator and signer, reimplemented with PyNaCl and
pydantic) gives the expected answer."""

from __future__ import annotations

import asyncio
import base64
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from fastapi import HTTPException

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benches" / "python"))

import dev_health_ops_peer as peer  # noqa: E402

from dev_health_entitlements.compat import dev_health_ops as dho  # noqa: E402
from dev_health_entitlements.compat.dev_health_ops import (  # noqa: E402
    feature_policy,
    gating,
    generator,
    registry,
    types,
    validator,
)

NOW = 1_800_000_000
DAY = 86_400


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LICENSE_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("LICENSE_KEY", raising=False)
    gating.LicenseManager.reset()
    gating.LicenseAuditLogger.reset()
    yield
    gating.LicenseManager.reset()
    gating.LicenseAuditLogger.reset()
    gating.set_org_loader(None)
    gating.set_org_id_resolver(None)
    gating.set_audit_sink(None)
    feature_policy.set_feature_decision_store(None)


def team_token(features: Optional[Dict[str, bool]] = None, **options: Any) -> str:
    return dho.sign_license(
        dho.TEST_KEYPAIR.private_key,
        org_id="org_acme",
        tier="team",
        features=features,
        license_id="lic_team",
        issued_at=options.pop("issued_at", NOW - DAY),
        **options,
    )


# ---- the public names -------------------------------------------------------------------------


def test_the_package_offers_dev_health_ops_public_names() -> None:
    for name in (
        "LicenseTier", "LicenseLimits", "LicensePayload", "DEFAULT_LIMITS", "GRACE_DAYS",
        "FeatureCategory", "CANONICAL_INCIDENT_INGESTION_FEATURE", "STANDARD_FEATURES",
        "get_features_for_tier", "FeatureDecision", "FeatureDecisionReason",
        "evaluate_org_feature_sync", "evaluate_org_feature_async", "is_org_feature_enabled_sync",
        "is_org_feature_enabled_async", "LicenseValidator", "LicenseValidationError",
        "LicenseExpiredError", "LicenseSignatureError", "KeyPair", "TEST_KEYPAIR",
        "generate_keypair", "generate_test_license", "sign_license", "sign_payload",
        "LicenseManager", "get_license_manager", "get_entitlements", "has_feature",
        "check_limit", "get_limit", "require_feature", "require_limit",
        "FeatureNotLicensedError", "LimitExceededError",
    ):  # fmt: skip
        assert hasattr(dho, name), name
        assert name in dho.__all__, name


def test_tables_come_from_the_engine_catalog() -> None:
    assert [t.value for t in types.TIER_ORDER] == ["community", "team", "enterprise"]
    assert types.GRACE_DAYS == {
        types.LicenseTier.COMMUNITY: 0,
        types.LicenseTier.TEAM: 14,
        types.LicenseTier.ENTERPRISE: 30,
    }
    team = types.DEFAULT_LIMITS[types.LicenseTier.TEAM]
    assert (team.users, team.repos, team.api_rate, team.backfill_days) == (20, 10, 500, 90)
    enterprise = types.DEFAULT_LIMITS[types.LicenseTier.ENTERPRISE]
    assert enterprise.is_unlimited("users") and enterprise.backfill_days is None
    assert len(registry.STANDARD_FEATURES) == 32
    key, name, category, tier, _ = registry.STANDARD_FEATURES[0]
    assert (key, name, category, tier) == (
        "git_sync", "Git Sync", types.FeatureCategory.CORE, types.LicenseTier.COMMUNITY
    )  # fmt: skip
    assert registry.EXPLICIT_PURCHASE_FEATURES == {
        "agent_context_runtime", "ask_dev", "ask_dev_contextual_entrypoints", "ask_dev_wave_3_1"
    }  # fmt: skip
    community = registry.get_features_for_tier(types.LicenseTier.COMMUNITY)
    assert community["git_sync"] and not community["webhooks"] and not community["ask_dev"]
    assert registry.get_features_for_tier(types.LicenseTier.ENTERPRISE)["sso_saml"]


# ---- keys and signing ---------------------------------------------------------------------------


def test_keypairs_are_base64_of_the_public_key_and_the_32_byte_seed() -> None:
    assert dho.TEST_KEYPAIR.public_key == "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="
    assert base64.b64decode(dho.TEST_KEYPAIR.private_key) == bytes(32)
    pair = dho.generate_keypair()
    assert len(base64.b64decode(pair.private_key)) == 32
    token = dho.sign_license(pair.private_key, org_id="o", tier="team", issued_at=NOW)
    assert dho.LicenseValidator(pair.public_key).validate(token, current_time=NOW).valid


def test_signed_tokens_are_byte_for_byte_dev_health_ops_own() -> None:
    features = {"sso": True, "capacity_forecast": False, "api_access": True}
    ours = team_token(features, org_name="Acme", contact_email="it@acme.example")
    payload = peer.Payload(
        iss="fullchaos.studio",
        sub="org_acme",
        iat=NOW - DAY,
        exp=NOW - DAY + 365 * DAY,
        tier=peer.Tier.TEAM,
        features=features,
        limits=peer.Limits(users=20, repos=10, api_rate=500, backfill_days=90),
        grace_days=14,
        org_name="Acme",
        contact_email="it@acme.example",
        license_id="lic_team",
    )
    assert ours == peer.sign_payload(dho.TEST_KEYPAIR.private_key, payload)
    # A payload without license_id, signed both ways.
    no_id = payload.model_copy(update={"license_id": None})
    mine = dho.sign_payload(
        dho.TEST_KEYPAIR.private_key, types.LicensePayload.model_validate(no_id.model_dump())
    )
    assert mine == peer.sign_payload(dho.TEST_KEYPAIR.private_key, no_id)


def test_signing_refuses_what_dev_health_ops_refuses() -> None:
    with pytest.raises(ValueError, match="Invalid tier 'gold'. Must be one of: community, team"):
        dho.sign_license(dho.TEST_KEYPAIR.private_key, org_id="o", tier="gold")
    with pytest.raises(ValueError, match="duration_days must be positive"):
        dho.sign_license(dho.TEST_KEYPAIR.private_key, org_id="o", tier="team", duration_days=0)
    with pytest.raises(ValueError, match="Invalid private key"):
        dho.sign_license("not base64!", org_id="o", tier="team")
    with pytest.raises(ValueError, match="Invalid private key"):
        dho.sign_license(base64.b64encode(bytes(64)).decode(), org_id="o", tier="team")


# ---- the validator --------------------------------------------------------------------------------


def same_outcome(token: str, now: int) -> validator.ValidationResult:
    ours = dho.LicenseValidator(dho.TEST_KEYPAIR.public_key).validate(token, current_time=now)
    theirs = peer.PeerValidator(dho.TEST_KEYPAIR.public_key).validate(token, current_time=now)
    assert (ours.valid, ours.in_grace_period) == (theirs.valid, theirs.in_grace_period), token
    if theirs.error is None or not theirs.error.startswith("Invalid payload schema"):
        assert ours.error == theirs.error
    else:
        assert ours.error is not None and ours.error.startswith("Invalid payload schema")
    if theirs.payload is not None:
        assert ours.payload is not None
        assert ours.payload.model_dump() == types.LicensePayload.model_validate(
            theirs.payload.model_dump()
        ).model_dump()
    return ours


def test_validation_results_and_messages_match_dev_health_ops() -> None:
    token = team_token({"sso": True})
    exp = NOW - DAY + 365 * DAY
    assert same_outcome(token, NOW).valid
    assert same_outcome(token, exp).valid
    grace = same_outcome(token, exp + 1)
    assert grace.valid and grace.in_grace_period
    expired = same_outcome(token, exp + 14 * DAY + 1)
    assert expired.error == "License expired (past grace period)"
    assert expired.payload is not None and expired.payload.sub == "org_acme"
    assert same_outcome("no-dot", NOW).error == validator.FORMAT_ERROR
    assert same_outcome("abc.def", NOW).error == "Invalid base64 encoding"
    payload, signature = token.split(".")
    forged = base64.b64encode(b"x" * 64).decode()
    assert same_outcome(f"{payload}.{forged}", NOW).error == "Invalid signature"
    body = b"{not json"
    signed = base64.b64encode(_sign(body)).decode()
    assert same_outcome(f"{base64.b64encode(body).decode()}.{signed}", NOW).error == (
        "Invalid JSON in payload"
    )
    wrong_iss = b'{"iss":"someone.else","sub":"o","iat":1,"exp":2,"tier":"team","features":{},' \
        b'"limits":{"users":1,"repos":1,"api_rate":1},"grace_days":0}'
    bad = f"{base64.b64encode(wrong_iss).decode()}.{base64.b64encode(_sign(wrong_iss)).decode()}"
    assert same_outcome(bad, 1).error is not None


def test_check_expiry_false_accepts_an_expired_license() -> None:
    token = team_token()
    result = dho.LicenseValidator(dho.TEST_KEYPAIR.public_key).validate(
        token, check_expiry=False, current_time=NOW + 400 * DAY
    )
    assert result.valid and result.error is None


def test_a_token_without_license_id_validates_with_a_derived_id() -> None:
    payload = types.LicensePayload(
        sub="org_acme", iat=NOW, exp=NOW + DAY, tier="team", features={},
        limits=types.DEFAULT_LIMITS[types.LicenseTier.TEAM], grace_days=14,
    )  # fmt: skip
    token = dho.sign_payload(dho.TEST_KEYPAIR.private_key, payload)
    result = dho.LicenseValidator(dho.TEST_KEYPAIR.public_key).validate(token, current_time=NOW)
    assert result.valid and result.payload is not None
    assert (result.payload.license_id or "").startswith("v1-sha512-")


def test_payload_helpers_of_the_validator() -> None:
    v = dho.LicenseValidator(dho.TEST_KEYPAIR.public_key)
    result = v.validate(team_token({"sso": True}), current_time=NOW)
    payload = result.payload
    assert payload is not None
    exp = payload.exp
    assert not v.is_expired(payload, exp + 14 * DAY)
    assert v.is_expired(payload, exp + 14 * DAY + 1)
    assert v.in_grace_period(payload, exp + 1) and not v.in_grace_period(payload, exp)
    assert v.has_feature(payload, "sso") and not v.has_feature(payload, "webhooks")
    assert v.check_limit(payload, "users", 20) and not v.check_limit(payload, "users", 21)
    assert not v.check_limit(payload, "seats", 1)
    with pytest.raises(dho.LicenseValidationError, match="Invalid public key"):
        dho.LicenseValidator("c2hvcnQ=")


def _sign(message: bytes) -> bytes:
    from nacl.signing import SigningKey

    return bytes(SigningKey(bytes(32)).sign(message).signature)


# ---- gating: the instance license ----------------------------------------------------------------


def initialize(token: str, monkeypatch: pytest.MonkeyPatch) -> gating.LicenseManager:
    monkeypatch.setattr("time.time", lambda: float(NOW))
    return gating.LicenseManager.initialize(dho.TEST_KEYPAIR.public_key, token)


def test_an_instance_license_map_is_the_whole_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    manager = initialize(team_token({"sso": True, "capacity_forecast": False}), monkeypatch)
    assert manager.is_licensed and manager.tier is types.LicenseTier.TEAM
    assert dho.has_feature("sso") and not dho.has_feature("capacity_forecast")
    assert not dho.has_feature("webhooks")
    ent = dho.get_entitlements()
    assert ent["tier"] == "team" and ent["is_licensed"] and not ent["in_grace_period"]
    assert ent["features"] == {"capacity_forecast": False, "sso": True}
    assert ent["limits"] == {"users": 20, "repos": 10, "api_rate": 500}


def test_without_a_license_the_community_defaults_apply() -> None:
    manager = gating.LicenseManager.initialize()
    assert not manager.is_licensed and manager.tier is types.LicenseTier.COMMUNITY
    assert dho.has_feature("basic_analytics") and not dho.has_feature("sso")
    assert dho.get_limit("users") == 5 and dho.get_limit("seats") == 0
    assert dho.check_limit("users", 5) and not dho.check_limit("users", 6)
    assert not dho.check_limit("seats", 1)


def test_an_enterprise_license_has_unlimited_limits_as_minus_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = dho.generate_test_license(org_id="org_acme", issued_at=NOW - DAY)
    initialize(token, monkeypatch)
    assert dho.get_limit("users") == -1 and dho.check_limit("users", 10**9)


def test_audit_entries_reach_the_hosts_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    entries: List[Dict[str, Any]] = []
    gating.set_audit_sink(entries.append)
    initialize("not-a-license", monkeypatch)
    assert entries[-1]["action"] == "license_validation_failed"
    assert entries[-1]["error_message"] == validator.FORMAT_ERROR
    dho.has_feature("sso")
    assert entries[-1]["action"] == "feature_access_denied"
    assert entries[-1]["changes"]["current_tier"] == "community"
    dho.has_feature("sso", log_denial=False)
    dho.check_limit("users", 6)
    assert entries[-1]["action"] == "limit_exceeded"
    assert entries[-1]["description"] == "Limit 'users' exceeded: 6/5"


# ---- gating: decorators -------------------------------------------------------------------------------


def test_require_feature_denies_with_dev_health_ops_body_and_exception() -> None:
    gating.LicenseManager.initialize()

    @dho.require_feature("sso_saml", required_tier="enterprise")
    def sso() -> str:
        return "ok"

    with pytest.raises(HTTPException) as http:
        sso()
    assert http.value.status_code == 402
    detail: Any = http.value.detail
    assert detail == {
        "error": "feature_not_licensed",
        "feature": "sso_saml",
        "required_tier": "enterprise",
        "current_tier": "community",
    }
    assert getattr(sso, "_require_feature") == "sso_saml"

    @dho.require_feature("sso_saml", required_tier="enterprise", raise_http=False)
    async def sso_async() -> str:
        return "ok"

    with pytest.raises(dho.FeatureNotLicensedError) as err:
        asyncio.run(sso_async())
    assert str(err.value) == "Feature 'sso_saml' is not available (requires enterprise tier)"


def test_require_feature_finds_the_org_and_asks_the_hosts_loader() -> None:
    rows = {
        "org_ent": ("team", feature_policy.OrgLicenseRow(tier="enterprise")),
        "org_team": ("team", None),
    }
    gating.set_org_loader(rows.get)

    @dho.require_feature("sso_saml", raise_http=False)
    def sso(org_id: str = "default") -> str:
        return org_id

    assert sso(org_id="org_ent") == "org_ent"
    with pytest.raises(dho.FeatureNotLicensedError):
        sso(org_id="org_team")

    class Session:
        org_id = "org_ent"

    @dho.require_feature("sso_saml", raise_http=False)
    def by_session(session: Any = None) -> str:
        return "ok"

    assert by_session(session=Session()) == "ok"
    gating.set_org_id_resolver(lambda args, kwargs: "org_team")
    with pytest.raises(dho.FeatureNotLicensedError):
        by_session(session=Session())


def test_tests_can_replace_has_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: List[Tuple[str, Optional[str]]] = []

    def fake(feature: str, *, log_denial: bool = True, org_id: Optional[str] = None) -> bool:
        calls.append((feature, org_id))
        return True

    monkeypatch.setattr(gating, "has_feature", fake)

    @dho.require_feature("sso")
    def endpoint(org_id: str = "x") -> str:
        return "ok"

    assert endpoint(org_id="org_1") == "ok" and calls == [("sso", "org_1")]


def test_require_limit_keeps_sync_endpoints_sync_and_raises_dev_health_ops_errors() -> None:
    gating.LicenseManager.initialize()

    @dho.require_limit("users", lambda: 6, raise_http=False)
    def invite() -> str:
        return "ok"

    assert not asyncio.iscoroutinefunction(invite)
    with pytest.raises(dho.LimitExceededError) as err:
        invite()
    assert (err.value.limit_name, err.value.current, err.value.maximum) == ("users", 6, 5)
    assert str(err.value) == "Limit 'users' exceeded: 6/5"

    @dho.require_limit("users", lambda: 5)
    async def invite_async() -> str:
        return "ok"

    assert asyncio.run(invite_async()) == "ok"

    @dho.require_limit("users", lambda: 9)
    def over() -> str:
        return "ok"

    with pytest.raises(HTTPException) as http:
        over()
    assert http.value.status_code == 402
    body: Any = http.value.detail
    assert body == {
        "error": "limit_exceeded", "limit": "users", "current": 9, "maximum": 5,
        "current_tier": "community",
    }  # fmt: skip


# ---- feature policy -----------------------------------------------------------------------------


def context(**changes: Any) -> feature_policy.FeatureDecisionContext:
    base: Dict[str, Any] = {
        "feature_key": "webhooks",
        "is_registered": True,
        "is_storage_valid": True,
        "globally_enabled": True,
        "min_tier": types.LicenseTier.TEAM,
        "org_tier": types.LicenseTier.TEAM,
        "org_override": None,
        "license_override": None,
        "evaluated_at": datetime.fromtimestamp(NOW, timezone.utc),
    }
    base.update(changes)
    return feature_policy.FeatureDecisionContext(**base)


R = feature_policy.FeatureDecisionReason


@pytest.mark.parametrize(
    "changes, allowed, reason",
    [
        ({}, True, R.ENABLED_BY_TIER),
        ({"org_tier": types.LicenseTier.COMMUNITY}, False, R.TIER_REQUIRED),
        ({"is_storage_valid": False}, False, R.INVALID_FEATURE_STATE),
        ({"is_registered": False}, False, R.FEATURE_NOT_REGISTERED),
        ({"globally_enabled": False}, False, R.GLOBAL_DISABLED),
        ({"org_override": feature_policy.FeatureOverrideSnapshot(False)}, False,
         R.ORG_OVERRIDE_DISABLED),
        ({"org_override": feature_policy.FeatureOverrideSnapshot(True),
          "org_tier": types.LicenseTier.COMMUNITY}, True, R.ENABLED_BY_ORG_OVERRIDE),
        ({"license_override": False}, False, R.LICENSE_OVERRIDE_DISABLED),
        ({"license_override": True, "org_tier": types.LicenseTier.COMMUNITY}, True,
         R.ENABLED_BY_LICENSE_OVERRIDE),
        ({"feature_key": "ask_dev", "min_tier": types.LicenseTier.COMMUNITY}, False,
         R.EXPLICIT_PURCHASE_REQUIRED),
        ({"feature_key": "customer_push_ingest", "org_tier": types.LicenseTier.COMMUNITY,
          "org_override": feature_policy.FeatureOverrideSnapshot(True)}, False, R.TIER_REQUIRED),
        ({"org_override": feature_policy.FeatureOverrideSnapshot(
            False, datetime.fromtimestamp(NOW, timezone.utc))}, True, R.ENABLED_BY_TIER),
    ],
)
def test_decide_feature_follows_the_engine_order(
    changes: Dict[str, Any], allowed: bool, reason: feature_policy.FeatureDecisionReason
) -> None:
    decision = feature_policy.decide_feature(context(**changes))
    assert (decision.allowed, decision.reason) == (allowed, reason)
    assert (decision.message is None) == allowed


def test_an_org_override_carries_its_expiry_and_config() -> None:
    until = datetime.fromtimestamp(NOW, timezone.utc) + timedelta(days=3)
    override = feature_policy.FeatureOverrideSnapshot(True, until, {"quota": 5})
    decision = feature_policy.decide_feature(
        context(org_override=override, org_tier=types.LicenseTier.COMMUNITY)
    )
    assert decision.expires_at == until and decision.config == {"quota": 5}
    assert feature_policy.closed_feature_decision("x", R.STORAGE_ERROR).message == (
        "Feature decision storage is unavailable"
    )


def test_org_decisions_read_the_hosts_store() -> None:
    calls: List[Tuple[Any, Any, Tuple[str, ...]]] = []

    def store(session: Any, org_id: Any, keys: Tuple[str, ...]) -> feature_policy.FeatureRows:
        calls.append((session, org_id, keys))
        return feature_policy.FeatureRows(
            org_tier="community",
            org_license=feature_policy.OrgLicenseRow(
                tier="team", features_override={"sso_saml": True}
            ),
            features=[
                feature_policy.FeatureFlagRow("webhooks", "team"),
                feature_policy.FeatureFlagRow("sso_saml", "enterprise"),
                feature_policy.FeatureFlagRow("audit_log", "enterprise", is_enabled=False),
                feature_policy.FeatureFlagRow("broken", "gold"),
            ],
        )

    assert dho.evaluate_org_feature_sync(None, "o", "webhooks").reason is R.STORAGE_ERROR
    feature_policy.set_feature_decision_store(store)
    decisions = feature_policy.evaluate_org_features_sync(
        "session", "org_1", ["webhooks", "sso_saml", "audit_log", "broken", "nope", "webhooks"]
    )
    assert calls[-1] == ("session", "org_1", ("webhooks", "sso_saml", "audit_log", "broken", "nope"))
    assert {k: d.reason for k, d in decisions.items()} == {
        "webhooks": R.ENABLED_BY_TIER,
        "sso_saml": R.ENABLED_BY_LICENSE_OVERRIDE,
        "audit_log": R.GLOBAL_DISABLED,
        "broken": R.INVALID_FEATURE_STATE,
        "nope": R.FEATURE_NOT_REGISTERED,
    }
    assert dho.is_org_feature_enabled_sync(None, "o", "sso_saml")

    async def async_store(session: Any, org_id: Any, keys: Tuple[str, ...]) -> Any:
        return store(session, org_id, keys)

    feature_policy.set_feature_decision_store(async_store)
    assert asyncio.run(dho.is_org_feature_enabled_async(None, "o", "webhooks"))
    assert dho.evaluate_org_feature_sync(None, "o", "webhooks").reason is R.STORAGE_ERROR

    def failing(session: Any, org_id: Any, keys: Tuple[str, ...]) -> Any:
        raise ConnectionError("database down")

    feature_policy.set_feature_decision_store(failing)
    assert asyncio.run(dho.evaluate_org_feature_async(None, "o", "webhooks")).reason is (
        R.STORAGE_ERROR
    )
