"""Keys and tokens shared by the tests: the all-zero seed of SPEC §1.2 and a second key."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

import dev_health_entitlements as dhe

ZERO_SEED = bytes(32)
ZERO_PUBLIC = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="
KID = "k1"
NOW = 1_800_000_000
DAY = 86_400


def zero_key() -> dhe.SigningKey:
    return dhe.SigningKey.from_seed(ZERO_SEED)


def vendor_key() -> dhe.SigningKey:
    """A key that is not the documented test key: the environment refuses that one."""
    return dhe.SigningKey.from_seed(bytes(range(1, 33)))


def claims(
    *,
    sub: str = "org_1",
    tier: str = "team",
    iat: int = NOW - DAY,
    exp: int = NOW + 30 * DAY,
    jti: str = "lic_test",
    **extra: Any,
) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "iss": "fullchaos.studio",
        "sub": sub,
        "iat": iat,
        "exp": exp,
        "jti": jti,
        "tier": tier,
    }
    out.update(extra)
    return out


def license_token(key: Optional[dhe.SigningKey] = None, kid: str = KID, **kw: Any) -> str:
    return (key or zero_key()).sign_license(claims(**kw), kid)


def now() -> int:
    return int(time.time())
