"""dev-health-ops' licensing types (``dev_health_ops.licensing.types``) over the engine.

``LicenseTier`` and ``FeatureCategory`` are the same string enums; ``LicenseLimits`` and
``LicensePayload`` are plain classes with dev-health-ops' fields and the pydantic methods hosts call
(``model_validate``, ``model_dump``, ``model_dump_json``), without pydantic: the engine checks a
payload when it is signed or verified. ``DEFAULT_LIMITS`` and ``GRACE_DAYS`` are read from the
engine's ``dev-health-ops`` catalog, not typed again here.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ... import UNLIMITED, Catalog, Entitlements

__all__ = [
    "DEFAULT_LIMITS",
    "GRACE_DAYS",
    "TIER_ORDER",
    "FeatureCategory",
    "LicenseLimits",
    "LicensePayload",
    "LicenseTier",
]


class LicenseTier(str, Enum):
    """community < team < enterprise."""

    COMMUNITY = "community"
    TEAM = "team"
    ENTERPRISE = "enterprise"


class FeatureCategory(str, Enum):
    """The feature groups of dev-health-ops' registry (the catalog's ``category``)."""

    CORE = "core"
    ANALYTICS = "analytics"
    INTEGRATIONS = "integrations"
    SECURITY = "security"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


_TIERS: Dict[str, LicenseTier] = {t.value: t for t in LicenseTier}

#: Lowest first.
TIER_ORDER: List[LicenseTier] = [LicenseTier.COMMUNITY, LicenseTier.TEAM, LicenseTier.ENTERPRISE]

_LIMIT_FIELDS = ("users", "repos", "api_rate", "backfill_days")


class LicenseLimits:
    """``users``, ``repos``, ``api_rate`` (``-1`` unlimited) and ``backfill_days`` (``None``
    unlimited), as a v1 payload writes them."""

    __slots__ = ("users", "repos", "api_rate", "backfill_days")

    def __init__(
        self, *, users: int, repos: int, api_rate: int, backfill_days: Optional[int] = None
    ) -> None:
        self.users = users
        self.repos = repos
        self.api_rate = api_rate
        self.backfill_days = backfill_days

    def is_unlimited(self, field: str) -> bool:
        return bool(getattr(self, field, 0) == UNLIMITED)

    def model_dump(self) -> Dict[str, Optional[int]]:
        return {name: getattr(self, name) for name in _LIMIT_FIELDS}

    @classmethod
    def model_validate(cls, data: Union[LicenseLimits, Mapping[str, Any]]) -> LicenseLimits:
        if isinstance(data, LicenseLimits):
            return data
        return cls(**{name: data[name] for name in _LIMIT_FIELDS if name in data})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LicenseLimits) and self.model_dump() == other.model_dump()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.model_dump().items())
        return f"LicenseLimits({fields})"


_PAYLOAD_FIELDS = (
    "iss",
    "sub",
    "iat",
    "exp",
    "tier",
    "features",
    "limits",
    "grace_days",
    "org_name",
    "contact_email",
    "license_id",
)


class LicensePayload:
    """A v1 license payload: dev-health-ops' fields in its order. ``features`` is the license's
    own map (the whole answer for an instance license); ``license_id`` may be ``None``."""

    __slots__ = _PAYLOAD_FIELDS

    def __init__(
        self,
        *,
        iss: str = "fullchaos.studio",
        sub: str,
        iat: int,
        exp: int,
        tier: Union[LicenseTier, str],
        features: Mapping[str, bool],
        limits: Union[LicenseLimits, Mapping[str, Any]],
        grace_days: int,
        org_name: Optional[str] = None,
        contact_email: Optional[str] = None,
        license_id: Optional[str] = None,
    ) -> None:
        self.iss = iss
        self.sub = sub
        self.iat = iat
        self.exp = exp
        self.tier = LicenseTier(tier)
        self.features: Dict[str, bool] = dict(features)
        self.limits = LicenseLimits.model_validate(limits)
        self.grace_days = grace_days
        self.org_name = org_name
        self.contact_email = contact_email
        self.license_id = license_id

    @classmethod
    def model_validate(cls, data: Union[LicensePayload, Mapping[str, Any]]) -> LicensePayload:
        if isinstance(data, LicensePayload):
            return data
        return cls(**{name: data[name] for name in _PAYLOAD_FIELDS if name in data})

    @classmethod
    def _from_verified(cls, fields: Tuple[Any, ...]) -> LicensePayload:
        """A payload from the engine's already checked fields (``v1_payload_fields``), without
        checking them again."""
        payload = cls.__new__(cls)
        (
            payload.iss,
            payload.sub,
            payload.iat,
            payload.exp,
            tier,
            payload.features,
            (users, repos, api_rate, backfill_days),
            payload.grace_days,
            payload.org_name,
            payload.contact_email,
            payload.license_id,
        ) = fields
        payload.tier = _TIERS[tier]
        limits = LicenseLimits.__new__(LicenseLimits)
        unlimited = UNLIMITED
        limits.users = unlimited if users is None else users
        limits.repos = unlimited if repos is None else repos
        limits.api_rate = unlimited if api_rate is None else api_rate
        limits.backfill_days = backfill_days
        payload.limits = limits
        return payload

    def model_dump(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {name: getattr(self, name) for name in _PAYLOAD_FIELDS}
        out["tier"] = self.tier.value
        out["limits"] = self.limits.model_dump()
        return out

    def model_dump_json(self) -> str:
        """Compact JSON in dev-health-ops' field order (the bytes a v1 token signs)."""
        return json.dumps(self.model_dump(), separators=(",", ":"), ensure_ascii=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LicensePayload) and self.model_dump() == other.model_dump()

    def __repr__(self) -> str:
        return f"LicensePayload(sub={self.sub!r}, tier={self.tier.value!r}, exp={self.exp!r})"


def _tier_limits(tier: LicenseTier) -> LicenseLimits:
    limits = Entitlements.resolve(
        catalog=Catalog.dev_health_ops(), org_tier=tier.value, now=0
    ).to_dict()["limits"]

    def marker(name: str) -> int:
        value = limits[name]
        return UNLIMITED if value is None else int(value)

    backfill = limits["backfill_days"]
    return LicenseLimits(
        users=marker("max_users"),
        repos=marker("max_repos"),
        api_rate=marker("api_rate_limit_per_min"),
        backfill_days=None if backfill is None else int(backfill),
    )


#: The limits a license of each tier gets by default, from the engine's catalog.
DEFAULT_LIMITS: Dict[LicenseTier, LicenseLimits] = {t: _tier_limits(t) for t in TIER_ORDER}

#: Grace days after expiry per tier, from the engine's catalog.
GRACE_DAYS: Dict[LicenseTier, int] = {
    LicenseTier(t["tier"]): t["grace_days"] for t in Catalog.dev_health_ops().tiers
}
