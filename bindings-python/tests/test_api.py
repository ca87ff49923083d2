"""The §4 surface: every noun converts to and from the engine, errors carry the core's codes."""

from __future__ import annotations

import base64
import json
import time

import pytest

import dev_health_entitlements as dhe
from helpers import DAY, KID, NOW, ZERO_PUBLIC, claims, license_token, vendor_key, zero_key


def verifier(**options: object) -> dhe.Verifier:
    return dhe.Verifier(zero_key().keyring(KID), **options)  # type: ignore[arg-type]


# Keyring


def test_keyring_reads_base64_keys_jwk_dicts_jwks_text_and_lists() -> None:
    jwk = zero_key().public_jwk("j1")
    assert dhe.Keyring({"k1": ZERO_PUBLIC}).kids == ["k1"]
    assert dhe.Keyring({"j1": {k: v for k, v in jwk.items() if k != "kid"}}).kids == ["j1"]
    assert dhe.Keyring.from_jwks(json.dumps({"keys": [jwk]})).kids == ["j1"]
    assert dhe.Keyring.from_jwks({"keys": [jwk]}).kids == ["j1"]
    assert len(dhe.Keyring.parse(f"a={ZERO_PUBLIC},b={ZERO_PUBLIC}")) == 2
    assert dhe.Keyring.parse(ZERO_PUBLIC).kids == ["default"]
    assert dhe.Keyring().kids == []
    assert dhe.Keyring({"k1": ZERO_PUBLIC}).to_jwks()["keys"][0]["x"] == jwk["x"]


def test_a_bad_key_raises_invalid_key() -> None:
    with pytest.raises(dhe.LicenseError) as err:
        dhe.Keyring({"k1": "bm90IGEga2V5"})
    assert err.value.code == "invalid_key"
    assert "32 bytes" in err.value.message


def test_the_test_key_is_never_embedded() -> None:
    assert ZERO_PUBLIC not in json.dumps(dhe.Keyring.embedded().to_jwks())


# Verifier and License


def test_a_v2_license_verifies_with_every_property() -> None:
    token = license_token(org_name="Acme", features={"sso_saml": True}, limits={"users": 50})
    lic = verifier().verify(token, now=NOW)
    assert (lic.status, lic.tier, lic.sub, lic.license_id) == ("active", "team", "org_1", "lic_test")
    assert (lic.kid, lic.format, lic.license_type) == (KID, "v2", "self_hosted")
    assert lic.expires_at == NOW + 30 * DAY
    assert lic.grace_days == 14
    assert lic.grace_ends_at == NOW + 44 * DAY
    assert lic.verified_at == NOW
    assert lic.claims["org_name"] == "Acme"
    assert lic.claims["limits"] == {"max_users": 50}
    assert lic.to_dict()["valid"] is True


def test_status_moves_from_active_to_grace_to_expired() -> None:
    lic = verifier().verify(license_token(), now=NOW)
    exp = lic.expires_at
    assert lic.status_at(exp) == "active"
    assert lic.status_at(exp + 1) == "grace"
    assert lic.grace_days_left(exp + 1) == 14
    assert lic.status_at(lic.grace_ends_at) == "grace"
    assert lic.status_at(lic.grace_ends_at + 1) == "expired"
    assert lic.grace_days_left(lic.grace_ends_at + 1) is None


def test_now_none_reads_time_time(monkeypatch: pytest.MonkeyPatch) -> None:
    lic = verifier().verify(license_token(), now=NOW)
    monkeypatch.setattr(time, "time", lambda: float(lic.grace_ends_at + 10))
    assert lic.status_at() == "expired"
    assert verifier().verify(license_token()).status == "expired"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("x" * 20_000, "token_too_large"),
        ("not-a-token", "malformed_token"),
        ("eyJhbGciOiJub25lIn0.e30.", "unsupported_algorithm"),
    ],
)
def test_errors_carry_the_core_codes(token: str, code: str) -> None:
    with pytest.raises(dhe.LicenseError) as err:
        verifier().verify(token, now=NOW)
    assert err.value.code == code
    assert str(err.value).startswith(code + ": ")
    assert isinstance(err.value, Exception)


def test_a_tampered_token_is_an_invalid_signature() -> None:
    head, body, sig = license_token().split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps(claims(tier="enterprise")).encode()
    ).rstrip(b"=").decode()
    with pytest.raises(dhe.LicenseError) as err:
        verifier().verify(f"{head}.{forged}.{sig}", now=NOW)
    assert err.value.code == "invalid_signature"


def test_verifier_options_issuer_leeway_v1_audience_rollback() -> None:
    token = license_token()
    with pytest.raises(dhe.LicenseError, match="issuer_mismatch"):
        verifier(issuer="someone.else").verify(token, now=NOW)
    future = license_token(iat=NOW + 100)
    assert verifier(leeway=200).verify(future, now=NOW).status == "active"
    with pytest.raises(dhe.LicenseError, match="issued_in_future"):
        verifier(leeway=0).verify(future, now=NOW)
    v1 = zero_key().sign_license_v1({**claims(), "license_id": "lic_v1"})
    assert verifier().verify(v1, now=NOW).format == "v1"
    with pytest.raises(dhe.LicenseError, match="unsupported_algorithm"):
        verifier(accept_v1=False).verify(v1, now=NOW)
    with pytest.raises(dhe.LicenseError, match="audience_mismatch"):
        verifier(deployment_id="dep_1").verify(token, now=NOW)
    assert verifier(deployment_id="dep_1").verify(license_token(aud=["dep_1"]), now=NOW)
    with pytest.raises(dhe.LicenseError, match="clock_rollback"):
        verifier(high_water_mark=NOW + 3600).verify(token, now=NOW)
    ops = verifier(catalog=dhe.Catalog.dev_health_ops())
    assert ops.verify(token, now=NOW).grace_days == 14
    assert verifier().issuer == "fullchaos.studio" and verifier().leeway == 60
    assert verifier().keyring.kids == [KID]


def test_revocation_lists_as_objects_and_as_signed_tokens() -> None:
    token = license_token(jti="lic_gone")
    signed = zero_key().sign_revocation_list(
        ["lic_gone"], issued_at=NOW, expires_at=NOW + DAY, kid=KID
    )
    listed = dhe.RevocationList.verify(signed, zero_key().keyring(KID), now=NOW)
    assert "lic_gone" in listed and len(listed) == 1 and listed.expires_at == NOW + DAY
    for revocations in (listed, dhe.RevocationList.from_ids(["lic_gone"])):
        with pytest.raises(dhe.LicenseError, match="revoked"):
            verifier(revocation_list=revocations).verify(token, now=NOW)
    # A token given as the list is verified at the current time.
    fresh = zero_key().sign_revocation_list(
        ["lic_gone"], issued_at=int(time.time()), expires_at=NOW + DAY, kid=KID
    )
    with pytest.raises(dhe.LicenseError, match="revoked"):
        verifier(revocation_list=fresh).verify(token, now=NOW)


def test_verifier_from_env_reads_the_spec_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = vendor_key()
    monkeypatch.delenv("DEV_HEALTH_LICENSE_PUBLIC_KEYS", raising=False)
    monkeypatch.delenv("DEV_HEALTH_ALLOW_TEST_KEYS", raising=False)
    monkeypatch.setenv("LICENSE_PUBLIC_KEY", vendor.public_key)
    assert dhe.Verifier.from_env().keyring.kids == ["default"]
    monkeypatch.setenv("DEV_HEALTH_LICENSE_PUBLIC_KEYS", f"k1={vendor.public_key}")
    v = dhe.Verifier.from_env(leeway=5)
    assert v.keyring.kids == ["k1"] and v.leeway == 5
    assert v.verify(license_token(vendor), now=NOW).sub == "org_1"


def test_the_environment_refuses_the_documented_test_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEV_HEALTH_ALLOW_TEST_KEYS", raising=False)
    monkeypatch.setenv("DEV_HEALTH_LICENSE_PUBLIC_KEYS", f"k1={ZERO_PUBLIC}")
    with pytest.raises(dhe.LicenseError) as err:
        dhe.Verifier.from_env()
    assert err.value.code == "invalid_key"
    monkeypatch.setenv("DEV_HEALTH_ALLOW_TEST_KEYS", "1")
    assert dhe.Verifier.from_env().keyring.kids == ["k1"]


def test_license_token_from_env_order(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("DEV_HEALTH_LICENSE", "LICENSE_KEY", "DEV_HEALTH_LICENSE_FILE"):
        monkeypatch.delenv(name, raising=False)
    assert dhe.license_token_from_env() is None
    path = f"{tmp_path}/license.txt"
    with open(path, "w") as f:
        f.write("from-file\n")
    monkeypatch.setenv("DEV_HEALTH_LICENSE_FILE", path)
    assert dhe.license_token_from_env() == "from-file"
    monkeypatch.setenv("LICENSE_KEY", "from-license-key")
    assert dhe.license_token_from_env() == "from-license-key"
    monkeypatch.setenv("DEV_HEALTH_LICENSE", "from-dev-health")
    assert dhe.license_token_from_env() == "from-dev-health"


# Catalog and Entitlements


def test_catalogs() -> None:
    default = dhe.Catalog.default()
    ops = dhe.Catalog.dev_health_ops()
    assert "sso_saml" in default.feature_keys and len(ops.feature_keys) == 32
    assert "min_sync_interval_hours" in ops.limit_keys
    assert default.roles == ["viewer", "editor", "admin", "owner"]
    assert default.can("admin", "org:write") and not default.can("viewer", "org:write")
    assert "billing:manage" in default.permissions_of("owner")
    assert (default.feature("sso_saml") or {})["min_tier"] == "enterprise"
    assert default.feature("nope") is None
    assert dhe.Catalog.builtin("dev-health-ops").name == ops.name
    with pytest.raises(dhe.LicenseError, match="invalid_catalog"):
        dhe.Catalog.from_json("{}")


def test_the_catalog_view_has_tiers_with_grace_limits_per_tier_and_categories() -> None:
    ops = dhe.Catalog.dev_health_ops()
    assert [(t["tier"], t["grace_days"]) for t in ops.tiers] == [
        ("community", 0),
        ("team", 14),
        ("enterprise", 30),
    ]
    users = next(limit for limit in ops.limits if limit["key"] == "max_users")
    assert users["direction"] == "max"
    assert users["values"] == {"community": 5, "team": 20, "enterprise": None}
    interval = next(limit for limit in ops.limits if limit["key"] == "min_sync_interval_hours")
    assert interval["direction"] == "min" and interval["values"]["enterprise"] == 0.25
    byo = next(f for f in ops.features if f["key"] == "byo_llm")
    assert byo["min_tier"] == "team" and byo["tier_bound"] and byo["category"]
    whole = ops.to_dict()
    assert whole["name"] == ops.name and whole["roles"] == ops.roles
    assert [f["key"] for f in whole["features"]] == ops.feature_keys


def test_resolution_and_every_check() -> None:
    lic = verifier().verify(license_token(tier="team"), now=NOW)
    ent = dhe.Entitlements.resolve(
        catalog=dhe.Catalog.default(),
        license=lic,
        org_id=None,
        org_tier=None,
        overrides=[{"feature": "audit_log", "enabled": True, "expires_at": NOW + 10}],
        kill_switches={"webhooks": False},
        now=NOW,
    )
    assert ent.tier == "team"
    assert ent.has("api_access") and not ent.has("sso_saml") and not ent.has("nope")
    assert ent.has("audit_log") and not ent.has("webhooks")
    d = ent.check("sso_saml")
    assert not d and d.reason == "tier_required" and d.denial == "not_licensed"
    assert (d.current_tier, d.required_tier) == ("team", "enterprise")
    assert ent.check("webhooks").denial == "not_enabled"
    assert ent.check("audit_log").expires_at == NOW + 10
    assert ent.check("api_access").to_dict() == {
        "feature": "api_access",
        "allowed": True,
        "reason": "enabled_by_tier",
        "current_tier": "team",
        "required_tier": "team",
        "expires_at": lic.grace_ends_at,
    }
    assert ent.check("nope").reason == "feature_not_registered"
    assert ent.check_limit("max_users", 10_000).allowed
    assert ent.check_limit("max_users", 10_000).maximum is None
    assert ent.check_limit("nope", 1).reason == "limit_not_registered"
    assert ent.can("admin", "org:write")
    assert ent.upgrade_gate("sso_saml").to_dict() == {
        "state": "upgrade",
        "feature": "sso_saml",
        "current_tier": "team",
        "required_tier": "enterprise",
        "upgrade_href": "/org/admin/settings",
    }
    assert ent.upgrade_gate("webhooks").state == "unavailable"
    assert ent.stale_at == NOW + 10 and ent.is_stale(NOW + 10) and not ent.is_stale(NOW)
    assert ent.allowed_features == frozenset(k for k, v in ent.to_dict()["features"].items() if v)
    assert (ent.license or {})["license_id"] == "lic_test"


def test_community_limits_are_inclusive() -> None:
    ent = dhe.Entitlements.resolve(now=NOW)
    assert ent.tier == "community"
    at, over = ent.check_limit("max_users", 3), ent.check_limit("max_users", 4)
    assert at.allowed and not over.allowed
    assert over.to_dict() == {
        "limit": "max_users",
        "allowed": False,
        "current": 4,
        "maximum": 3,
        "current_tier": "community",
        "direction": "max",
        "reason": "limit_exceeded",
    }


def test_a_saas_license_applies_only_to_its_org() -> None:
    lic = verifier().verify(license_token(sub="org_a", license_type="saas"), now=NOW)
    assert dhe.Entitlements.resolve(license=lic, org_id="org_a", now=NOW).tier == "team"
    assert dhe.Entitlements.resolve(license=lic, org_id="org_b", now=NOW).tier == "community"


def test_to_dict_round_trips_through_from_dict() -> None:
    ent = dhe.Entitlements.resolve(org_id="o", org_tier="enterprise", now=NOW)
    again = dhe.Entitlements.from_dict(ent.to_dict())
    assert again.to_dict() == ent.to_dict() and again.has("sso_saml")


def test_bad_inputs_raise_invalid_input() -> None:
    with pytest.raises(dhe.LicenseError, match="invalid_input"):
        dhe.Entitlements.resolve(org_tier="gold", now=NOW)
    with pytest.raises(dhe.LicenseError, match="invalid_input"):
        dhe.Entitlements.resolve(overrides=[{"enabled": True}], now=NOW)


# Sessions, Stripe, issuing


def test_sessions() -> None:
    key = zero_key()
    token = key.sign_jwt(
        {"sub": "u1", "email": "a@b.c", "org_id": "org_1", "role": "admin", "exp": NOW + 60}, KID
    )
    session = dhe.SessionVerifier(key.keyring(KID)).verify(token, now=NOW)
    assert (session.sub, session.org_id, session.role, session.is_superuser) == (
        "u1",
        "org_1",
        "admin",
        False,
    )
    assert session.to_dict()["email"] == "a@b.c"
    with pytest.raises(dhe.LicenseError, match="session_expired"):
        dhe.SessionVerifier(key.keyring(KID)).verify(token, now=NOW + 3600)
    with pytest.raises(dhe.LicenseError, match="invalid_key"):
        dhe.SessionVerifier(key.keyring(KID), hs256_secret="short")


def test_stripe_signatures() -> None:
    body = b'{"id":"evt_1"}'
    header = dhe.stripe_signature_header(body, "whsec_a", NOW)
    assert dhe.verify_stripe_signature(body, header, ["whsec_b", "whsec_a"], now=NOW) == NOW
    assert dhe.verify_stripe_signature(body.decode(), header, "whsec_a", now=NOW + 300) == NOW
    with pytest.raises(dhe.LicenseError, match="stripe_timestamp_out_of_tolerance"):
        dhe.verify_stripe_signature(body, header, "whsec_a", now=NOW + 301)
    with pytest.raises(dhe.LicenseError, match="stripe_signature_mismatch"):
        dhe.verify_stripe_signature(body, header, "whsec_b", now=NOW)
    with pytest.raises(dhe.LicenseError, match="stripe_signature_malformed"):
        dhe.verify_stripe_signature(body, "nonsense", "whsec_a", now=NOW)


def test_stripe_events_through_the_engine_and_the_ledger() -> None:
    event = dhe.StripeEvent.from_dict(
        {
            "id": "evt_1",
            "type": "customer.subscription.created",
            "created": NOW,
            "data": {
                "object": {
                    "id": "sub_1",
                    "customer": "cus_1",
                    "status": "active",
                    "current_period_end": NOW + 30 * DAY,
                    "metadata": {"org_id": "org_1"},
                    "items": {"data": [{"price": {"id": "price_team"}}]},
                }
            },
        }
    )
    assert (event.id, event.type, event.created) == ("evt_1", "customer.subscription.created", NOW)
    assert event.org_ref()["org_id"] == "org_1"
    config = {"price_tiers": {"price_team": "team"}}
    org = {"org_id": "org_1", "tier": "community", "managed_by": "stripe"}
    outcome = dhe.apply_stripe_event(event, org, config)
    assert {"action": "change_tier", "from": "community", "to": "team"} in outcome["actions"]
    assert outcome["state"]["tier"] == "team"
    assert dhe.apply_stripe_event(event, None, config)["ignored"] == {"reason": "unknown_org"}
    ledger = dhe.BillingLedger([org])
    ledger.apply(event, config)
    assert ledger.apply(event, config)["ignored"] == {"reason": "duplicate"}
    assert (ledger.org("org_1") or {})["license_id"] == "lic_1"
    assert ledger.orgs["org_1"]["tier"] == "team"
    with pytest.raises(dhe.LicenseError, match="invalid_stripe_event"):
        dhe.StripeEvent.parse(b"{}")


def test_signing_keys_refuse_64_byte_secrets_and_never_show_the_seed() -> None:
    with pytest.raises(dhe.LicenseError) as err:
        dhe.SigningKey.from_seed(bytes(64))
    assert err.value.code == "invalid_key" and "64-byte" in err.value.message
    key = dhe.SigningKey.generate()
    assert key.public_key in repr(key)
    assert dhe.SigningKey.parse(base64.b64encode(bytes(32)).decode()).public_key == ZERO_PUBLIC
    assert dhe.new_license_id().startswith("lic_")


def test_a_billing_state_of_the_wrong_shape_is_invalid_input() -> None:
    with pytest.raises(dhe.LicenseError) as err:
        dhe.BillingLedger([{"org_id": "o", "tier": "gold"}])
    assert err.value.code == "invalid_input" and "billing state" in err.value.message


def test_threads_share_verifiers_and_entitlements_safely() -> None:
    from concurrent.futures import ThreadPoolExecutor

    v = verifier()
    token = license_token(tier="enterprise")
    ent = dhe.Entitlements.resolve(license=v.verify(token, now=NOW), now=NOW)

    def work(i: int) -> tuple[str, bool, bool]:
        lic = v.verify(token, now=NOW + i)
        return lic.tier, ent.has("sso_saml"), ent.check_limit("max_users", i).allowed

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = set(pool.map(work, range(64)))
    assert results == {("enterprise", True, True)}
