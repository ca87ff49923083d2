"""dev-health-ops' per-org feature decisions (``dev_health_ops.licensing.feature_policy`` and
``feature_decisions``) decided by the engine.

``decide_feature(context)`` and ``evaluate_org_feature(s)_sync/async(session, org_id, ...)`` keep
dev-health-ops' names, types and reasons; the decision itself is the engine's SPEC §3 order (kill
switch, org override, the org's license record, explicit purchase, tier), resolved once per call.
dev-health-ops reads its database here; this module asks the loader the host registers with
:func:`set_feature_decision_store` (``loader(session, org_id, feature_keys) -> FeatureRows``, sync
or async), so it never imports the host.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from datetime import datetime, timezone
from enum import Enum
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from ... import Catalog, Entitlements
from .registry import is_explicit_purchase_feature
from .types import LicenseTier

__all__ = [
    "FeatureDecision",
    "FeatureDecisionContext",
    "FeatureDecisionReason",
    "FeatureFlagRow",
    "FeatureOverrideSnapshot",
    "FeatureRows",
    "OrgFeatureOverrideRow",
    "OrgLicenseRow",
    "closed_feature_decision",
    "decide_feature",
    "evaluate_org_feature_async",
    "evaluate_org_feature_sync",
    "evaluate_org_features_async",
    "evaluate_org_features_sync",
    "is_org_feature_enabled_async",
    "is_org_feature_enabled_sync",
    "set_feature_decision_store",
]


class FeatureDecisionReason(str, Enum):
    ENABLED_BY_ORG_OVERRIDE = "enabled_by_org_override"
    ENABLED_BY_LICENSE_OVERRIDE = "enabled_by_license_override"
    ENABLED_BY_TIER = "enabled_by_tier"
    FEATURE_NOT_REGISTERED = "feature_not_registered"
    GLOBAL_DISABLED = "global_disabled"
    INVALID_FEATURE_STATE = "invalid_feature_state"
    STORAGE_ERROR = "storage_error"
    ORG_OVERRIDE_EXPIRED = "org_override_expired"
    ORG_OVERRIDE_DISABLED = "org_override_disabled"
    ORG_OVERRIDE_REQUIRED = "org_override_required"
    LICENSE_OVERRIDE_DISABLED = "license_override_disabled"
    EXPLICIT_PURCHASE_REQUIRED = "explicit_purchase_required"
    TIER_REQUIRED = "tier_required"
    NOT_IN_LICENSE = "not_in_license"

    def __str__(self) -> str:
        return self.value


_MESSAGES: Dict[FeatureDecisionReason, str] = {
    FeatureDecisionReason.GLOBAL_DISABLED: "Feature is globally disabled",
    FeatureDecisionReason.INVALID_FEATURE_STATE: "Feature configuration is invalid",
    FeatureDecisionReason.STORAGE_ERROR: "Feature decision storage is unavailable",
    FeatureDecisionReason.ORG_OVERRIDE_EXPIRED: "Organization feature override has expired",
    FeatureDecisionReason.ORG_OVERRIDE_DISABLED: "Feature disabled for this organization",
    FeatureDecisionReason.ORG_OVERRIDE_REQUIRED: "Requires an active organization feature override",
    FeatureDecisionReason.LICENSE_OVERRIDE_DISABLED: "Feature disabled in license",
    FeatureDecisionReason.EXPLICIT_PURCHASE_REQUIRED: "Requires an explicit organization purchase",
    FeatureDecisionReason.NOT_IN_LICENSE: "Feature not included in license",
}


@dataclasses.dataclass(frozen=True)
class FeatureOverrideSnapshot:
    is_enabled: bool
    expires_at: Optional[datetime] = None
    config: Optional[Dict[str, Any]] = None


@dataclasses.dataclass(frozen=True)
class FeatureDecisionContext:
    feature_key: str
    is_registered: bool
    is_storage_valid: bool
    globally_enabled: bool
    min_tier: LicenseTier
    org_tier: LicenseTier
    org_override: Optional[FeatureOverrideSnapshot]
    license_override: Optional[bool]
    evaluated_at: datetime


@dataclasses.dataclass(frozen=True)
class FeatureDecision:
    feature_key: str
    allowed: bool
    reason: FeatureDecisionReason
    expires_at: Optional[datetime] = None
    config: Optional[Dict[str, Any]] = None

    @property
    def message(self) -> Optional[str]:
        if self.allowed:
            return None
        if self.reason is FeatureDecisionReason.FEATURE_NOT_REGISTERED:
            return f"Unknown feature: {self.feature_key}"
        if self.reason is FeatureDecisionReason.TIER_REQUIRED:
            return f"Requires {self.feature_key} minimum tier"
        return _MESSAGES.get(self.reason)


def closed_feature_decision(feature_key: str, reason: FeatureDecisionReason) -> FeatureDecision:
    return FeatureDecision(feature_key=feature_key, allowed=False, reason=reason)


# The host's rows, as dev-health-ops' feature-decision store loads them.


@dataclasses.dataclass(frozen=True)
class FeatureFlagRow:
    """A row of the host's feature-flag table: the feature, its minimum tier (a tier name; any
    other value is ``invalid_feature_state``) and its global switch."""

    key: str
    min_tier: str
    is_enabled: bool = True


@dataclasses.dataclass(frozen=True)
class OrgFeatureOverrideRow:
    feature_key: str
    is_enabled: bool
    expires_at: Optional[datetime] = None
    config: Optional[Dict[str, Any]] = None


@dataclasses.dataclass(frozen=True)
class OrgLicenseRow:
    """The org's license row: its tier and ``features_override`` (rule 4 grants and removals),
    with optional limits (token or catalog names)."""

    tier: Optional[str] = None
    features_override: Mapping[str, bool] = dataclasses.field(default_factory=dict)
    limits: Mapping[str, Optional[float]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class FeatureRows:
    org_tier: Optional[str] = None
    org_license: Optional[OrgLicenseRow] = None
    features: Sequence[FeatureFlagRow] = ()
    overrides: Sequence[OrgFeatureOverrideRow] = ()


RowsLoader = Callable[[Any, Any, Tuple[str, ...]], Union[FeatureRows, Awaitable[FeatureRows]]]
_store: Optional[RowsLoader] = None


def set_feature_decision_store(loader: Optional[RowsLoader]) -> None:
    """Registers the host's loader: ``loader(session, org_id, feature_keys)`` returns the
    :class:`FeatureRows` for those keys (sync, or a coroutine for the ``_async`` functions). A
    loader that raises makes every decision ``storage_error`` (closed)."""
    global _store
    _store = loader


def _utc(value: Optional[datetime]) -> Optional[datetime]:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _unix(value: Optional[datetime]) -> Optional[int]:
    utc = _utc(value)
    return None if utc is None else int(utc.timestamp())


def _tier(name: Optional[str]) -> str:
    try:
        return LicenseTier(str(name)).value
    except ValueError:
        return LicenseTier.COMMUNITY.value


@functools.lru_cache(maxsize=256)
def _catalog(features: Tuple[Tuple[str, str], ...]) -> Catalog:
    """A catalog of these (key, min tier) features, with the registry's explicit-purchase and
    tier-bound flags and the dev-health-ops tiers."""
    ops = Catalog.dev_health_ops()
    grace = {t["tier"]: t["grace_days"] for t in ops.tiers}
    entries: List[Dict[str, Any]] = []
    for key, min_tier in features:
        registered = ops.feature(key) or {}
        entries.append(
            {
                "key": key,
                "name": key,
                "min_tier": min_tier,
                "explicit_purchase": is_explicit_purchase_feature(key),
                "tier_bound": bool(registered.get("tier_bound", False)),
            }
        )
    document = {
        "name": "dev-health-ops-feature-policy",
        "tiers": [
            {"key": t.value, "name": t.value.title(), "grace_days": grace[t.value]}
            for t in LicenseTier
        ],
        "features": entries,
    }
    return Catalog.from_json(json.dumps(document))


def _decide(
    keys: Sequence[str],
    rows: FeatureRows,
    evaluated_at: datetime,
) -> Dict[str, FeatureDecision]:
    """One engine resolution for every key; rows the engine cannot read are closed first."""
    decisions: Dict[str, FeatureDecision] = {}
    registered: Dict[str, FeatureFlagRow] = {}
    for row in rows.features:
        if row.key not in keys:
            continue
        try:
            LicenseTier(str(row.min_tier))
        except ValueError:
            decisions[row.key] = closed_feature_decision(
                row.key, FeatureDecisionReason.INVALID_FEATURE_STATE
            )
            continue
        registered[row.key] = row
    catalog = _catalog(tuple((r.key, str(r.min_tier)) for r in registered.values()))
    overrides_by_key = {o.feature_key: o for o in rows.overrides}
    overrides = [
        {"feature": o.feature_key, "enabled": o.is_enabled, "expires_at": _unix(o.expires_at)}
        for o in rows.overrides
    ]
    record: Optional[Dict[str, Any]] = None
    if rows.org_license is not None:
        record = {
            "tier": _tier(rows.org_license.tier),
            "features": dict(rows.org_license.features_override),
            "limits": dict(rows.org_license.limits),
        }
    ent = Entitlements.resolve(
        catalog=catalog,
        org_tier=_tier(rows.org_tier),
        overrides=overrides,
        kill_switches={r.key: bool(r.is_enabled) for r in registered.values()},
        now=int(_utc(evaluated_at).timestamp()),  # type: ignore[union-attr]
        org_license=record,
    )
    for key in keys:
        if key in decisions:
            continue
        d = ent.check(key)
        reason = FeatureDecisionReason(d.reason)
        override = overrides_by_key.get(key)
        from_override = reason is FeatureDecisionReason.ENABLED_BY_ORG_OVERRIDE
        decisions[key] = FeatureDecision(
            feature_key=key,
            allowed=d.allowed,
            reason=reason,
            expires_at=_utc(override.expires_at) if from_override and override else None,
            config=override.config if from_override and override else None,
        )
    return decisions


def decide_feature(context: FeatureDecisionContext) -> FeatureDecision:
    """dev-health-ops' decision for one feature from its context, decided by the engine."""
    key = context.feature_key
    if not context.is_storage_valid:
        return closed_feature_decision(key, FeatureDecisionReason.INVALID_FEATURE_STATE)
    override = context.org_override
    rows = FeatureRows(
        org_tier=LicenseTier(context.org_tier).value,
        org_license=(
            None
            if context.license_override is None
            else OrgLicenseRow(
                tier=LicenseTier(context.org_tier).value,
                features_override={key: context.license_override},
            )
        ),
        features=(
            (FeatureFlagRow(key, LicenseTier(context.min_tier).value, context.globally_enabled),)
            if context.is_registered
            else ()
        ),
        overrides=(
            ()
            if override is None
            else (OrgFeatureOverrideRow(key, override.is_enabled, override.expires_at, override.config),)
        ),
    )
    return _decide((key,), rows, context.evaluated_at)[key]


def _keys(feature_keys: Sequence[str]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(feature_keys))


def _storage_error(keys: Sequence[str]) -> Dict[str, FeatureDecision]:
    return {k: closed_feature_decision(k, FeatureDecisionReason.STORAGE_ERROR) for k in keys}


def _load(
    session: Any, org_id: Any, keys: Tuple[str, ...]
) -> Union[FeatureRows, Awaitable[FeatureRows], None]:
    """The store's answer, or ``None`` when there is no store or it failed (closed decisions)."""
    if _store is None:
        return None
    try:
        return _store(session, org_id, keys)
    except Exception:  # noqa: BLE001 - any store failure is a closed decision, as in dev-health-ops
        return None


def _decisions(keys: Tuple[str, ...], rows: Any) -> Dict[str, FeatureDecision]:
    if not isinstance(rows, FeatureRows):
        return _storage_error(keys)
    return _decide(keys, rows, datetime.now(timezone.utc))


def evaluate_org_features_sync(
    session: Any, org_id: Any, feature_keys: Sequence[str]
) -> Dict[str, FeatureDecision]:
    """The decisions for these keys; an async store is refused here (``storage_error``): use the
    ``_async`` functions with it."""
    keys = _keys(feature_keys)
    rows = _load(session, org_id, keys)
    if inspect.iscoroutine(rows):
        rows.close()
    return _decisions(keys, rows)


async def evaluate_org_features_async(
    session: Any, org_id: Any, feature_keys: Sequence[str]
) -> Dict[str, FeatureDecision]:
    keys = _keys(feature_keys)
    rows = _load(session, org_id, keys)
    if inspect.isawaitable(rows):
        try:
            rows = await rows
        except Exception:  # noqa: BLE001 - as above
            rows = None
    return _decisions(keys, rows)


def evaluate_org_feature_sync(session: Any, org_id: Any, feature_key: str) -> FeatureDecision:
    return evaluate_org_features_sync(session, org_id, (feature_key,))[feature_key]


async def evaluate_org_feature_async(session: Any, org_id: Any, feature_key: str) -> FeatureDecision:
    return (await evaluate_org_features_async(session, org_id, (feature_key,)))[feature_key]


def is_org_feature_enabled_sync(session: Any, org_id: Any, feature_key: str) -> bool:
    return evaluate_org_feature_sync(session, org_id, feature_key).allowed


async def is_org_feature_enabled_async(session: Any, org_id: Any, feature_key: str) -> bool:
    return (await evaluate_org_feature_async(session, org_id, feature_key)).allowed
