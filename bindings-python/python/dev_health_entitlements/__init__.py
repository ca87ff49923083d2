"""Dev Health licensing and entitlements, backed by the Rust engine.

    import dev_health_entitlements as dhe
    keys = dhe.Keyring.from_jwks(jwks_json)
    verifier = dhe.Verifier(keys, issuer="fullchaos.studio", leeway=60, accept_v1=True)
    lic = verifier.verify(token)              # raises dhe.LicenseError; .code is a SPEC §1.4 code
    ent = dhe.Entitlements.resolve(catalog=dhe.Catalog.default(), license=lic)
    ent.has("sso_saml"), ent.check("sso_saml").reason, ent.check_limit("max_users", 4).allowed

Every decision is the engine's; this package only converts values. Times are Unix seconds, and
``now=None`` means the current time read with ``time.time()``. The FastAPI glue lives in
``dev_health_entitlements.fastapi``.
"""

from __future__ import annotations

from ._errors import (
    EntitlementDenied,
    FeatureNotEnabled,
    FeatureNotLicensed,
    LicenseError,
    LimitExceeded,
    PermissionDenied,
)
from ._native import (
    DEFAULT_ISSUER,
    DEFAULT_LEEWAY,
    UNLIMITED,
    BillingLedger,
    Catalog,
    Decision,
    Entitlements,
    Keyring,
    License,
    LimitDecision,
    RevocationList,
    Session,
    SessionVerifier,
    SigningKey,
    StripeEvent,
    UpgradeGate,
    Verifier,
    apply_stripe_event,
    license_token_from_env,
    new_license_id,
    stripe_signature_header,
    verify_stripe_signature,
)

#: The license statuses of SPEC §1.4.
STATUSES = ("active", "grace", "expired")

#: The verification error codes of SPEC §1.4, in the engine's order of checks.
LICENSE_ERROR_CODES = (
    "token_too_large",
    "malformed_token",
    "unsupported_algorithm",
    "unknown_key_id",
    "key_not_valid_now",
    "invalid_signature",
    "invalid_claims",
    "issuer_mismatch",
    "audience_mismatch",
    "issued_in_future",
    "not_yet_valid",
    "revoked",
    "clock_rollback",
)

__all__ = [
    "DEFAULT_ISSUER",
    "DEFAULT_LEEWAY",
    "LICENSE_ERROR_CODES",
    "STATUSES",
    "UNLIMITED",
    "BillingLedger",
    "Catalog",
    "Decision",
    "EntitlementDenied",
    "Entitlements",
    "FeatureNotEnabled",
    "FeatureNotLicensed",
    "Keyring",
    "License",
    "LicenseError",
    "LimitDecision",
    "LimitExceeded",
    "PermissionDenied",
    "RevocationList",
    "Session",
    "SessionVerifier",
    "SigningKey",
    "StripeEvent",
    "UpgradeGate",
    "Verifier",
    "apply_stripe_event",
    "license_token_from_env",
    "new_license_id",
    "stripe_signature_header",
    "verify_stripe_signature",
]
