"""dev-health-ops' ``licensing`` package over the engine.

Change ``from dev_health_ops.licensing import ...`` to
``from dev_health_entitlements.compat.dev_health_ops import ...`` (and the submodules ``types``,
``validator``, ``generator``, ``registry``, ``feature_policy``, ``gating`` likewise): the names,
signatures, exceptions, messages and HTTP bodies are dev-health-ops'; every decision is the Rust
engine's. Register the host's database reads with ``gating.set_org_loader``,
``feature_policy.set_feature_decision_store`` and ``gating.set_audit_sink``. What differs, and
why: ``docs/migration-dev-health-ops.md``.
"""

from __future__ import annotations

from .feature_policy import (
    FeatureDecision,
    FeatureDecisionReason,
    evaluate_org_feature_async,
    evaluate_org_feature_sync,
    is_org_feature_enabled_async,
    is_org_feature_enabled_sync,
    set_feature_decision_store,
)
from .gating import (
    FeatureNotLicensedError,
    LicenseManager,
    LimitExceededError,
    check_limit,
    get_entitlements,
    get_license_manager,
    get_limit,
    has_feature,
    require_feature,
    require_limit,
    set_audit_sink,
    set_org_id_resolver,
    set_org_loader,
)
from .generator import (
    TEST_KEYPAIR,
    KeyPair,
    generate_keypair,
    generate_test_license,
    sign_license,
    sign_payload,
)
from .registry import CANONICAL_INCIDENT_INGESTION_FEATURE, STANDARD_FEATURES, get_features_for_tier
from .types import (
    DEFAULT_LIMITS,
    GRACE_DAYS,
    FeatureCategory,
    LicenseLimits,
    LicensePayload,
    LicenseTier,
)
from .validator import (
    LicenseExpiredError,
    LicenseSignatureError,
    LicenseValidationError,
    LicenseValidator,
)

__all__ = [
    "CANONICAL_INCIDENT_INGESTION_FEATURE",
    "DEFAULT_LIMITS",
    "GRACE_DAYS",
    "STANDARD_FEATURES",
    "TEST_KEYPAIR",
    "FeatureCategory",
    "FeatureDecision",
    "FeatureDecisionReason",
    "FeatureNotLicensedError",
    "KeyPair",
    "LicenseExpiredError",
    "LicenseLimits",
    "LicenseManager",
    "LicensePayload",
    "LicenseSignatureError",
    "LicenseTier",
    "LicenseValidationError",
    "LicenseValidator",
    "LimitExceededError",
    "check_limit",
    "evaluate_org_feature_async",
    "evaluate_org_feature_sync",
    "generate_keypair",
    "generate_test_license",
    "get_entitlements",
    "get_features_for_tier",
    "get_license_manager",
    "get_limit",
    "has_feature",
    "is_org_feature_enabled_async",
    "is_org_feature_enabled_sync",
    "require_feature",
    "require_limit",
    "set_audit_sink",
    "set_feature_decision_store",
    "set_org_id_resolver",
    "set_org_loader",
    "sign_license",
    "sign_payload",
]
