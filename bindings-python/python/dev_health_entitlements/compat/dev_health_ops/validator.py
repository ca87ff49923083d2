"""dev-health-ops' ``LicenseValidator`` (``dev_health_ops.licensing.validator``) over the engine.

``validate`` returns the same ``ValidationResult`` with the same messages; the engine verifies the
signature and the claims (in Rust, one call), so there is no PyNaCl or pydantic on this path. The
behaviours that differ (the engine's leeway and ``iat`` check, v2 tokens accepted, a derived id for
payloads without ``license_id``) are listed in ``docs/migration-dev-health-ops.md``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from ... import Catalog, Keyring, License, LicenseError, Verifier
from ..._native import license_status, v1_payload_fields
from .types import LicensePayload

__all__ = [
    "LicenseExpiredError",
    "LicenseSignatureError",
    "LicenseValidationError",
    "LicenseValidator",
    "ValidationResult",
    "payload_from_license",
]


class LicenseValidationError(Exception):
    pass


class LicenseExpiredError(LicenseValidationError):
    pass


class LicenseSignatureError(LicenseValidationError):
    pass


@dataclass
class ValidationResult:
    valid: bool
    payload: Optional[LicensePayload] = None
    error: Optional[str] = None
    in_grace_period: bool = False


FORMAT_ERROR = "Invalid license format: expected <payload>.<signature>"
BASE64_ERROR = "Invalid base64 encoding"
SIGNATURE_ERROR = "Invalid signature"
JSON_ERROR = "Invalid JSON in payload"
EXPIRED_ERROR = "License expired (past grace period)"

def _message(error: LicenseError) -> str:
    """dev-health-ops' message for an engine error, chosen by its code and detail."""
    if error.code == "malformed_token":
        return BASE64_ERROR if error.reason == "invalid_base64" else FORMAT_ERROR
    if error.code == "token_too_large":
        return FORMAT_ERROR
    if error.code in ("invalid_signature", "unknown_key_id", "key_not_valid_now"):
        return SIGNATURE_ERROR
    if error.code == "invalid_claims" and error.reason == "invalid_json":
        return JSON_ERROR
    if error.code == "revoked":
        return f"License revoked: {error.message}"
    # invalid_claims, issuer_mismatch, issued_in_future, ...: the payload does not pass.
    return f"Invalid payload schema: {error.message}"


def payload_from_license(lic: License) -> LicensePayload:
    """The v1 payload view of a verified license (token limit names, ``-1`` for unlimited; a
    limit the license leaves out reads as unlimited, ``grace_days`` is the one in force)."""
    return LicensePayload._from_verified(v1_payload_fields(lic))


class LicenseValidator:
    """Verifies licenses signed by one Ed25519 public key (base64 of its 32 bytes)."""

    def __init__(self, public_key_base64: str, *, catalog: Optional[Catalog] = None) -> None:
        try:
            keyring = Keyring({"license": public_key_base64})
        except LicenseError as e:
            raise LicenseValidationError(f"Invalid public key: {e.message}") from e
        self._verifier = Verifier(keyring, catalog=catalog or Catalog.dev_health_ops())
        #: The engine's license of the last successful ``validate`` (for hosts resolving
        #: entitlements from it).
        self.last_license: Optional[License] = None

    @property
    def verifier(self) -> Verifier:
        """The engine's verifier behind this validator."""
        return self._verifier

    def validate(
        self,
        license_str: str,
        *,
        check_expiry: bool = True,
        current_time: Optional[int] = None,
    ) -> ValidationResult:
        if current_time is None:
            current_time = int(time.time())
        try:
            lic = self._verifier.verify(license_str, current_time)
        except LicenseError as error:
            return ValidationResult(valid=False, error=_message(error))
        self.last_license = lic
        payload = payload_from_license(lic)
        if check_expiry:
            status = lic.status
            if status == "expired":
                return ValidationResult(valid=False, payload=payload, error=EXPIRED_ERROR)
            if status == "grace":
                return ValidationResult(valid=True, payload=payload, in_grace_period=True)
        return ValidationResult(valid=True, payload=payload)

    def _check_expiry(self, payload: LicensePayload, current_time: int) -> str:
        status = license_status(payload.exp, payload.grace_days, current_time)
        return "valid" if status == "active" else status

    def is_expired(self, payload: LicensePayload, current_time: Optional[int] = None) -> bool:
        return license_status(payload.exp, payload.grace_days, current_time) == "expired"

    def in_grace_period(self, payload: LicensePayload, current_time: Optional[int] = None) -> bool:
        return license_status(payload.exp, payload.grace_days, current_time) == "grace"

    def has_feature(self, payload: LicensePayload, feature: str) -> bool:
        """What the payload's own feature map says (an instance license's map is the answer)."""
        return payload.features.get(feature, False)

    def check_limit(self, payload: LicensePayload, limit_name: str, current_value: int) -> bool:
        """``current_value`` within the payload's limit (``-1`` unlimited), as the engine checks
        it; an unknown limit (or ``backfill_days`` unset, which dev-health-ops also refuses) is
        ``False``."""
        from .gating import _record_entitlements

        limit = getattr(payload.limits, limit_name, None)
        if limit is None:
            return False
        return _record_entitlements(payload).check_limit(limit_name, current_value).allowed

