"""dev-health-ops' feature registry (``dev_health_ops.licensing.registry``), read from the engine's
``dev-health-ops`` catalog: the rows, the explicit-purchase keys and the tier defaults are the
catalog's, so the registry and the decisions cannot drift apart.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, List, Tuple

from ... import Catalog, Entitlements
from .types import FeatureCategory, LicenseTier

__all__ = [
    "ASK_DEV_CONTEXTUAL_ENTRYPOINTS_FEATURE",
    "ASK_DEV_FEATURE",
    "ASK_DEV_WAVE_3_1_FEATURE",
    "CANONICAL_INCIDENT_INGESTION_FEATURE",
    "EXPLICIT_PURCHASE_FEATURES",
    "ORG_OVERRIDE_ONLY_FEATURES",
    "STANDARD_FEATURES",
    "STANDARD_FEATURE_ROW",
    "get_features_for_tier",
    "is_explicit_purchase_feature",
    "is_org_override_only_feature",
]

CANONICAL_INCIDENT_INGESTION_FEATURE = "canonical_incident_ingestion"
ASK_DEV_FEATURE = "ask_dev"
ASK_DEV_CONTEXTUAL_ENTRYPOINTS_FEATURE = "ask_dev_contextual_entrypoints"
ASK_DEV_WAVE_3_1_FEATURE = "ask_dev_wave_3_1"

#: key, name, category, min tier, description.
STANDARD_FEATURE_ROW = Tuple[str, str, FeatureCategory, LicenseTier, str]

_CATALOG = Catalog.dev_health_ops()


def _rows() -> List[STANDARD_FEATURE_ROW]:
    rows: List[STANDARD_FEATURE_ROW] = []
    for key in _CATALOG.feature_keys:
        entry = _CATALOG.feature(key)
        assert entry is not None  # every listed key has an entry
        rows.append(
            (
                key,
                str(entry["name"]),
                FeatureCategory(entry["category"]),
                LicenseTier(entry["min_tier"]),
                str(entry["description"]),
            )
        )
    return rows


#: Every feature of the registry, in catalog order.
STANDARD_FEATURES: List[STANDARD_FEATURE_ROW] = _rows()

#: Off on every tier unless an org override or a license grants them.
EXPLICIT_PURCHASE_FEATURES: FrozenSet[str] = frozenset(
    key for key in _CATALOG.feature_keys if (_CATALOG.feature(key) or {}).get("explicit_purchase")
)

#: dev-health-ops lists none; kept for the name.
ORG_OVERRIDE_ONLY_FEATURES: FrozenSet[str] = frozenset()


def is_explicit_purchase_feature(feature_key: str) -> bool:
    return feature_key in EXPLICIT_PURCHASE_FEATURES


def is_org_override_only_feature(feature_key: str) -> bool:
    return feature_key in ORG_OVERRIDE_ONLY_FEATURES


_TIER_FEATURES: Dict[str, Dict[str, bool]] = {}


def get_features_for_tier(tier: LicenseTier) -> Dict[str, bool]:
    """Feature key -> enabled for a tier without a license: the engine's decisions for that tier
    (explicit-purchase keys off). Registry order."""
    name = LicenseTier(tier).value
    cached = _TIER_FEATURES.get(name)
    if cached is None:
        ent = Entitlements.resolve(catalog=_CATALOG, org_tier=name, now=0)
        cached = {key: ent.has(key) for key in _CATALOG.feature_keys}
        _TIER_FEATURES[name] = cached
    return dict(cached)
