"""Interoperability with the libraries a Python user has today: tokens signed by PyJWT (EdDSA with
an OKP key from `cryptography`) verify here; tokens issued here verify in PyJWT; v1 tokens made
with PyNaCl the dev-health-ops way verify here (and are byte-identical to ours)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Dict, Optional

import jwt
import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import OKPAlgorithm

import dev_health_entitlements as dhe
from helpers import DAY, NOW, ZERO_PUBLIC, ZERO_SEED, claims

# PyJWT checks exp/iat against the real clock: give these tokens real times.
REAL_NOW = int(time.time())


def raw_public(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def pyjwt_license(private: Ed25519PrivateKey, kid: str = "py-1", **extra: Any) -> str:
    payload = claims(iat=REAL_NOW - 60, exp=REAL_NOW + 30 * DAY, **extra)
    return jwt.encode(payload, private, algorithm="EdDSA", headers={"kid": kid})


def test_a_pyjwt_license_verifies_here_with_a_raw_key_and_with_its_jwk() -> None:
    private = Ed25519PrivateKey.generate()
    token = pyjwt_license(private, tier="enterprise", features={"ask_dev": True})
    for keyring in (
        dhe.Keyring({"py-1": raw_public(private.public_key())}),
        dhe.Keyring.from_jwks(
            {"keys": [{**json.loads(OKPAlgorithm.to_jwk(private.public_key())), "kid": "py-1"}]}
        ),
    ):
        lic = dhe.Verifier(keyring).verify(token)
        assert (lic.status, lic.tier, lic.kid, lic.format) == ("active", "enterprise", "py-1", "v2")
        assert lic.claims["features"] == {"ask_dev": True}


def test_a_pyjwt_token_with_another_key_or_algorithm_is_refused() -> None:
    private = Ed25519PrivateKey.generate()
    keyring = dhe.Keyring({"py-1": raw_public(private.public_key())})
    other = pyjwt_license(Ed25519PrivateKey.generate())
    with pytest.raises(dhe.LicenseError) as err:
        dhe.Verifier(keyring).verify(other)
    assert err.value.code == "invalid_signature"
    hs = jwt.encode(claims(), "x" * 32, algorithm="HS256", headers={"kid": "py-1"})
    with pytest.raises(dhe.LicenseError) as err:
        dhe.Verifier(keyring).verify(hs)
    assert err.value.code == "unsupported_algorithm"


def test_a_pyjwt_session_verifies_here() -> None:
    private = Ed25519PrivateKey.generate()
    token = jwt.encode(
        {"sub": "u1", "email": "a@b.c", "org_id": "org_1", "role": "owner", "exp": NOW + 60},
        private,
        algorithm="EdDSA",
        headers={"kid": "s1"},
    )
    verifier = dhe.SessionVerifier(dhe.Keyring({"s1": raw_public(private.public_key())}))
    assert verifier.verify(token, now=NOW).role == "owner"


def test_a_license_issued_here_verifies_in_pyjwt() -> None:
    key = dhe.SigningKey.generate()
    payload = claims(iat=REAL_NOW - 60, exp=REAL_NOW + DAY, org_name="Acme", limits={"users": 7})
    token = key.sign_license(payload, "ours-1")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
    decoded: Dict[str, Any] = jwt.decode(
        token, public, algorithms=["EdDSA"], issuer="fullchaos.studio"
    )
    assert decoded["sub"] == "org_1" and decoded["jti"] == "lic_test"
    assert decoded["org_name"] == "Acme" and decoded["limits"] == {"max_users": 7}
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": "ours-1"}
    # The JWK we publish is one PyJWT reads.
    from_jwk = OKPAlgorithm.from_jwk(json.dumps(key.public_jwk("ours-1")))
    assert isinstance(from_jwk, Ed25519PublicKey)
    assert jwt.decode(token, from_jwk, algorithms=["EdDSA"])["tier"] == "team"
    revocations = key.sign_revocation_list(
        ["lic_a"], issued_at=REAL_NOW, expires_at=REAL_NOW + DAY, kid="ours-1"
    )
    assert jwt.decode(revocations, public, algorithms=["EdDSA"])["revoked"] == ["lic_a"]


def test_a_tampered_license_issued_here_fails_in_pyjwt() -> None:
    key = dhe.SigningKey.generate()
    token = key.sign_license(claims(iat=REAL_NOW, exp=REAL_NOW + DAY), "k")
    head, body, sig = token.split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps(claims(tier="enterprise", iat=REAL_NOW, exp=REAL_NOW + DAY)).encode()
    ).rstrip(b"=").decode()
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{forged}.{sig}", public, algorithms=["EdDSA"])


def dev_health_ops_v1(
    signing_key: nacl.signing.SigningKey,
    *,
    tier: str,
    limits: Dict[str, Optional[int]],
    grace_days: int,
    license_id: str = "lic_ops_1",
    org_name: Optional[str] = None,
) -> str:
    """A v1 license exactly as dev-health-ops signs one: compact JSON in its field order,
    raw Ed25519 over the payload bytes, standard base64 with padding."""
    payload = {
        "iss": "fullchaos.studio",
        "sub": "org_1",
        "iat": NOW - DAY,
        "exp": NOW + 365 * DAY,
        "tier": tier,
        "features": None,
        "limits": limits,
        "grace_days": grace_days,
        "org_name": org_name,
        "contact_email": None,
        "license_id": license_id,
    }
    data = json.dumps(payload, separators=(",", ":")).encode()
    signature = signing_key.sign(data).signature
    return base64.b64encode(data).decode() + "." + base64.b64encode(signature).decode()


def test_a_pynacl_v1_license_signed_with_the_zero_seed_verifies_here() -> None:
    signing_key = nacl.signing.SigningKey(ZERO_SEED)
    assert base64.b64encode(bytes(signing_key.verify_key)).decode() == ZERO_PUBLIC
    token = dev_health_ops_v1(
        signing_key,
        tier="team",
        limits={"users": 20, "repos": 10, "api_rate": 500, "backfill_days": 90},
        grace_days=14,
        org_name="Acme",
    )
    lic = dhe.Verifier(dhe.Keyring.parse(ZERO_PUBLIC)).verify(token, now=NOW)
    assert (lic.format, lic.tier, lic.license_id, lic.kid) == ("v1", "team", "lic_ops_1", "default")
    assert lic.claims["limits"] == {
        "max_users": 20,
        "max_repos": 10,
        "api_rate_limit_per_min": 500,
        "backfill_days": 90,
    }
    ent = dhe.Entitlements.resolve(catalog=dhe.Catalog.dev_health_ops(), license=lic, now=NOW)
    assert ent.check_limit("max_users", 21).reason == "limit_exceeded"
    assert ent.has("jira_integration") and not ent.has("sso_saml")


def test_pynacl_unlimited_v1_limits_are_unlimited_here() -> None:
    token = dev_health_ops_v1(
        nacl.signing.SigningKey(ZERO_SEED),
        tier="enterprise",
        limits={"users": -1, "repos": -1, "api_rate": -1, "backfill_days": None},
        grace_days=30,
    )
    lic = dhe.Verifier(dhe.Keyring.parse(ZERO_PUBLIC)).verify(token, now=NOW)
    ent = dhe.Entitlements.resolve(catalog=dhe.Catalog.dev_health_ops(), license=lic, now=NOW)
    assert ent.check_limit("max_users", 10**9).maximum is None
    assert lic.grace_days == 30


def test_our_v1_signer_writes_the_same_bytes_as_dev_health_ops() -> None:
    signing_key = nacl.signing.SigningKey(ZERO_SEED)
    theirs = dev_health_ops_v1(
        signing_key,
        tier="team",
        limits={"users": 20, "repos": 10, "api_rate": 500, "backfill_days": 90},
        grace_days=14,
    )
    ours = dhe.SigningKey.from_seed(ZERO_SEED).sign_license_v1(
        {
            "iss": "fullchaos.studio",
            "sub": "org_1",
            "iat": NOW - DAY,
            "exp": NOW + 365 * DAY,
            "tier": "team",
            "license_id": "lic_ops_1",
        }
    )
    assert ours == theirs


def test_a_pynacl_v1_license_with_a_flipped_byte_is_refused() -> None:
    token = dev_health_ops_v1(
        nacl.signing.SigningKey(ZERO_SEED), tier="team", limits={}, grace_days=14
    )
    payload, signature = token.split(".")
    data = bytearray(base64.b64decode(payload))
    data[data.index(b"team")] = ord("T")
    forged = base64.b64encode(bytes(data)).decode() + "." + signature
    with pytest.raises(dhe.LicenseError) as err:
        dhe.Verifier(dhe.Keyring.parse(ZERO_PUBLIC)).verify(forged, now=NOW)
    assert err.value.code == "invalid_signature"
