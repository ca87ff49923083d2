"""dev-health-ops' key generation and v1 signing (``dev_health_ops.licensing.generator``) over
the engine's ``SigningKey``: the same ``KeyPair`` (base64 public key and base64 32-byte seed), the
same token bytes for the same payload (the feature map keeps its order).
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Union

from ... import LicenseError, SigningKey
from .registry import get_features_for_tier
from .types import DEFAULT_LIMITS, GRACE_DAYS, LicenseLimits, LicensePayload, LicenseTier

__all__ = [
    "TEST_KEYPAIR",
    "KeyPair",
    "generate_keypair",
    "generate_test_license",
    "sign_license",
    "sign_payload",
]


@dataclass(frozen=True)
class KeyPair:
    """Base64-encoded Ed25519 key pair (32-byte seed, not the 64-byte NaCl secret key)."""

    public_key: str
    private_key: str


def _pair(key: SigningKey) -> KeyPair:
    return KeyPair(public_key=key.public_key, private_key=key.seed_base64())


#: The all-zero seed's key pair, dev-health-ops' documented test key. Never for production: the
#: engine trusts it only where it is given explicitly (SPEC §7.4).
TEST_KEYPAIR = _pair(SigningKey.from_seed(bytes(32)))


def generate_keypair() -> KeyPair:
    """A new Ed25519 key pair from the operating system's random source."""
    return _pair(SigningKey.generate())


def _signing_key(private_key_b64: str) -> SigningKey:
    try:
        seed = base64.b64decode(private_key_b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"Invalid private key: {e}") from e
    try:
        return SigningKey.from_seed(seed)
    except LicenseError as e:
        raise ValueError(f"Invalid private key: {e.message}") from e


def sign_payload(private_key_b64: str, payload: LicensePayload) -> str:
    """Signs a payload: ``base64(payload_json).base64(signature)``, the payload's compact JSON in
    dev-health-ops' field order with its feature map in the order given."""
    key = _signing_key(private_key_b64)
    claims: Dict[str, Any] = payload.model_dump()
    try:
        return key.sign_license_v1(claims)
    except LicenseError as e:
        raise ValueError(f"Invalid license payload: {e.message}") from e


def sign_license(
    private_key_b64: str,
    *,
    org_id: str,
    tier: Union[LicenseTier, str],
    duration_days: int = 365,
    org_name: Optional[str] = None,
    contact_email: Optional[str] = None,
    features: Optional[Mapping[str, bool]] = None,
    limits: Optional[LicenseLimits] = None,
    grace_days: Optional[int] = None,
    license_id: Optional[str] = None,
    issued_at: Optional[int] = None,
) -> str:
    """Creates and signs a v1 license. Raises :class:`ValueError` for an invalid tier, a
    non-positive ``duration_days`` or a private key that cannot be read."""
    if isinstance(tier, str):
        try:
            tier = LicenseTier(tier.lower())
        except ValueError:
            valid = ", ".join(t.value for t in LicenseTier)
            raise ValueError(f"Invalid tier {tier!r}. Must be one of: {valid}") from None
    if duration_days <= 0:
        raise ValueError("duration_days must be positive")
    now = issued_at if issued_at is not None else int(time.time())
    payload = LicensePayload(
        iss="fullchaos.studio",
        sub=org_id,
        iat=now,
        exp=now + duration_days * 86400,
        tier=tier,
        features=features if features is not None else get_features_for_tier(tier),
        limits=limits if limits is not None else DEFAULT_LIMITS[tier],
        grace_days=grace_days if grace_days is not None else GRACE_DAYS[tier],
        org_name=org_name,
        contact_email=contact_email,
        license_id=license_id or str(uuid.uuid4()),
    )
    return sign_payload(private_key_b64, payload)


def generate_test_license(
    *,
    org_id: str,
    tier: Union[LicenseTier, str] = LicenseTier.ENTERPRISE,
    duration_days: int = 3650,
    org_name: str = "Default Organization",
    issued_at: Optional[int] = None,
) -> str:
    """A license signed with :data:`TEST_KEYPAIR`, for development and tests."""
    return sign_license(
        TEST_KEYPAIR.private_key,
        org_id=org_id,
        tier=tier,
        duration_days=duration_days,
        org_name=org_name,
        issued_at=issued_at,
    )
