"""The one exception hierarchy of the package.

Every error the engine reports is a :class:`LicenseError` whose ``code`` is one of the core's
stable snake_case strings (SPEC §1.4: ``invalid_signature``, ``revoked``, ...; and the codes of the
other inputs: ``invalid_key``, ``session_expired``, ``stripe_signature_mismatch``, ...). The
native module raises it; the FastAPI glue raises the subclasses below when told not to answer
with an HTTP error itself.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple


class LicenseError(Exception):
    """An engine error: a stable ``code``, a human ``message`` and, for some codes, a
    machine-readable ``reason`` refining the code (the core's ``ErrorDetail``: ``invalid_base64``
    or ``wrong_part_count`` for a ``malformed_token``, ``invalid_json`` or ``missing_claim`` for
    ``invalid_claims``, ``signature_mismatch`` for ``invalid_signature``, ...; ``None`` where the
    code says it all)."""

    code: str
    message: str
    reason: Optional[str]

    def __init__(self, code: str, message: str, reason: Optional[str] = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.reason = reason

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.code, self.message, self.reason))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class EntitlementDenied(LicenseError):
    """A check of the FastAPI glue denied the request; ``detail`` is the §4 denial body."""

    detail: Dict[str, Any]
    status_code: int

    def __init__(self, detail: Dict[str, Any], status_code: int, message: str) -> None:
        super().__init__(str(detail["error"]), message)
        self.detail = detail
        self.status_code = status_code

    def __reduce__(self) -> Tuple[Any, ...]:
        # Exception's own reduce re-calls __init__ with ``args`` (code, message): pickling and
        # copy.copy (worker processes, task queues) would fail.
        return (type(self), (self.detail, self.status_code, self.message))


class FeatureNotLicensed(EntitlementDenied):
    """A feature is not licensed (``feature_not_licensed``, HTTP 402): a purchase unlocks it."""

    @property
    def feature(self) -> str:
        return str(self.detail["feature"])

    @property
    def required_tier(self) -> Optional[str]:
        value = self.detail.get("required_tier")
        return None if value is None else str(value)

    @property
    def current_tier(self) -> str:
        return str(self.detail["current_tier"])


class FeatureNotEnabled(EntitlementDenied):
    """A feature is turned off by an administrator or unknown (``feature_not_enabled``, 403)."""

    @property
    def feature(self) -> str:
        return str(self.detail["feature"])


class LimitExceeded(EntitlementDenied):
    """A value is beyond the org's limit (``limit_exceeded``, HTTP 402)."""

    @property
    def limit(self) -> str:
        return str(self.detail["limit"])

    @property
    def limit_name(self) -> str:
        """The limit's name (dev-health-ops' ``LimitExceededError.limit_name``)."""
        return self.limit

    @property
    def current(self) -> Any:
        """The value checked."""
        return self.detail["current"]

    @property
    def maximum(self) -> Any:
        """The bound in force (the floor, for a ``min`` limit)."""
        return self.detail["maximum"]

    @property
    def current_tier(self) -> str:
        return str(self.detail["current_tier"])


class PermissionDenied(EntitlementDenied):
    """The session's role lacks the permission (``permission_denied``, HTTP 403)."""

    @property
    def permission(self) -> str:
        return str(self.detail["permission"])
