"""dev-health-ops' license gating (``dev_health_ops.licensing.gating``) over the engine.

The instance license (``LICENSE_PUBLIC_KEY`` / ``LICENSE_KEY``, or ``LicenseManager.initialize``)
is verified once by the engine and resolved with the ``exclusive`` reading dev-health-ops gives it:
a valid license's feature map is the whole answer. Without one, the tier's defaults from the
``dev-health-ops`` catalog apply. ``has_feature(..., org_id=...)`` and ``require_feature`` on an
endpoint called with ``org_id`` (or a ``session`` the host's resolver maps to an org) resolve that
org from the record the host's org loader returns (:func:`set_org_loader`), its license row standing
where a signed license would. Denials are dev-health-ops' HTTP bodies and exceptions; the audit
entries go to the logger ``dev_health_ops.licensing.gating`` and to the sink the host registers
(:func:`set_audit_sink`).
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import threading
import uuid
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar, Union, cast

from ... import UNLIMITED, Catalog, Entitlements, License
from .feature_policy import OrgLicenseRow
from .types import LicensePayload, LicenseTier
from .validator import LicenseValidator, ValidationResult

__all__ = [
    "FeatureNotLicensedError",
    "LicenseAuditLogger",
    "LicenseManager",
    "LimitExceededError",
    "OrgRecord",
    "check_limit",
    "get_entitlements",
    "get_license_audit_logger",
    "get_license_manager",
    "get_limit",
    "has_feature",
    "require_feature",
    "require_limit",
    "set_audit_sink",
    "set_org_id_resolver",
    "set_org_loader",
]

logger = logging.getLogger("dev_health_ops.licensing.gating")

F = TypeVar("F", bound=Callable[..., Any])

_CATALOG = Catalog.dev_health_ops()

# ---- hooks the host registers ----------------------------------------------------------------

#: What the host's org loader returns for an org: its billing tier and its license row.
OrgRecord = Tuple[Optional[str], Optional[OrgLicenseRow]]
OrgLoader = Callable[[str], Optional[OrgRecord]]
OrgIdResolver = Callable[[Tuple[Any, ...], Dict[str, Any]], Optional[str]]
AuditSink = Callable[[Dict[str, Any]], None]

_org_loader: Optional[OrgLoader] = None
_audit_sink: Optional[AuditSink] = None


def _default_org_id(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[str]:
    org_id = kwargs.get("org_id")
    if org_id is None:
        session = kwargs.get("session")
        org_id = getattr(session, "org_id", None) if session is not None else None
    return None if org_id is None else str(org_id)


_org_id_resolver: OrgIdResolver = _default_org_id


def set_org_loader(loader: Optional[OrgLoader]) -> None:
    """Registers ``loader(org_id) -> (org_tier, OrgLicenseRow | None) | None``: the host's database
    read for one org (``None`` for an org it does not know: the instance license applies)."""
    global _org_loader
    _org_loader = loader


def set_org_id_resolver(resolver: Optional[OrgIdResolver]) -> None:
    """Registers how ``require_feature`` finds the org of a call: ``resolver(args, kwargs)``. The
    default reads the ``org_id`` keyword, then ``session.org_id``."""
    global _org_id_resolver
    _org_id_resolver = resolver if resolver is not None else _default_org_id


def set_audit_sink(sink: Optional[AuditSink]) -> None:
    """Registers a callable receiving every audit entry (``dict``), e.g. the host's audit table
    writer. Entries are also logged."""
    global _audit_sink
    _audit_sink = sink


def _extract_org_id(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[str]:
    return _org_id_resolver(args, kwargs)


# ---- audit -------------------------------------------------------------------------------------


class LicenseAuditLogger:
    """Audit entries for license events (validation, grace, denied features, exceeded limits),
    logged and handed to the registered sink."""

    _instance: Optional["LicenseAuditLogger"] = None
    _org_id: Optional[uuid.UUID] = None

    def __new__(cls) -> "LicenseAuditLogger":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    @classmethod
    def get_instance(cls) -> "LicenseAuditLogger":
        return cls()

    @classmethod
    def reset(cls) -> None:
        cls._instance = None
        cls._org_id = None

    @classmethod
    def set_org_id(cls, org_id: Union[uuid.UUID, str, None]) -> None:
        cls._org_id = uuid.UUID(org_id) if isinstance(org_id, str) else org_id

    def _log_event(
        self,
        action: str,
        resource_id: str,
        description: str,
        status: str = "success",
        error_message: Optional[str] = None,
        changes: Optional[Dict[str, Any]] = None,
        extra_metadata: Optional[Dict[str, Any]] = None,
    ) -> Dict[str, Any]:
        entry: Dict[str, Any] = {
            "action": action,
            "resource_type": "license",
            "resource_id": resource_id,
            "description": description,
            "status": status,
            "error_message": error_message,
            "changes": changes or {},
            "metadata": extra_metadata or {},
            "org_id": str(self._org_id) if self._org_id else None,
        }
        level = logging.INFO if status == "success" else logging.WARNING
        logger.log(
            level,
            "License audit: %s - %s (status=%s, resource_id=%s)",
            action,
            description,
            status,
            resource_id,
            extra={"audit_entry": entry},
        )
        if _audit_sink is not None:
            _audit_sink(entry)
        return entry

    def log_validation_success(
        self,
        license_id: str,
        tier: str,
        org_id: Optional[str] = None,
        in_grace_period: bool = False,
    ) -> Dict[str, Any]:
        return self._log_event(
            "license_validated",
            license_id,
            f"License validated successfully for tier '{tier}'",
            changes={"tier": tier, "org_id": org_id, "in_grace_period": in_grace_period},
        )

    def log_validation_failure(self, license_id: str, error: str) -> Dict[str, Any]:
        return self._log_event(
            "license_validation_failed",
            license_id,
            "License validation failed",
            status="failure",
            error_message=error,
        )

    def log_grace_period_entered(
        self, license_id: str, tier: str, days_remaining: Optional[int] = None
    ) -> Dict[str, Any]:
        return self._log_event(
            "license_grace_period_entered",
            license_id,
            f"License entered grace period (tier: {tier})",
            status="warning",
            changes={"tier": tier, "days_remaining": days_remaining},
        )

    def log_feature_access_denied(
        self, feature: str, current_tier: str, required_tier: Optional[str] = None
    ) -> Dict[str, Any]:
        return self._log_event(
            "feature_access_denied",
            feature,
            f"Feature '{feature}' access denied (current tier: {current_tier})",
            status="failure",
            changes={
                "feature": feature,
                "current_tier": current_tier,
                "required_tier": required_tier,
            },
        )

    def log_limit_exceeded(
        self, limit_name: str, current_value: Any, maximum: Any, current_tier: str
    ) -> Dict[str, Any]:
        return self._log_event(
            "limit_exceeded",
            limit_name,
            f"Limit '{limit_name}' exceeded: {current_value}/{maximum}",
            status="failure",
            changes={
                "limit_name": limit_name,
                "current_value": current_value,
                "maximum": maximum,
                "current_tier": current_tier,
            },
        )


def get_license_audit_logger() -> LicenseAuditLogger:
    return LicenseAuditLogger.get_instance()


# ---- the instance license ------------------------------------------------------------------------


class LicenseManager:
    """The instance license, verified once by the engine, and the entitlements it gives."""

    _instance: Optional["LicenseManager"] = None
    _validator: Optional[LicenseValidator] = None
    _license_payload: Optional[LicensePayload] = None
    _validation_result: Optional[ValidationResult] = None
    _license: Optional[License] = None
    _entitlements: Optional[Entitlements] = None

    def __new__(cls) -> "LicenseManager":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    @classmethod
    def initialize(
        cls, public_key: Optional[str] = None, license_key: Optional[str] = None
    ) -> "LicenseManager":
        instance = cls()
        public_key = public_key or os.environ.get("LICENSE_PUBLIC_KEY")
        license_key = license_key or os.environ.get("LICENSE_KEY")
        audit = get_license_audit_logger()
        cls._validator = None
        cls._license_payload = None
        cls._validation_result = None
        cls._license = None
        cls._entitlements = None
        if public_key:
            cls._validator = LicenseValidator(public_key)
            if license_key:
                result = cls._validator.validate(license_key)
                cls._validation_result = result
                shown = license_key[:16] + "..." if len(license_key) > 16 else license_key
                if result.valid and result.payload is not None:
                    cls._license_payload = result.payload
                    cls._license = cls._validator.last_license
                    tier = result.payload.tier.value
                    audit.log_validation_success(
                        license_id=shown,
                        tier=tier,
                        org_id=result.payload.sub,
                        in_grace_period=result.in_grace_period,
                    )
                    if result.in_grace_period:
                        audit.log_grace_period_entered(license_id=shown, tier=tier)
                else:
                    audit.log_validation_failure(
                        license_id=shown, error=result.error or "Unknown validation error"
                    )
        return instance

    @classmethod
    def reset(cls) -> None:
        cls._instance = None
        cls._validator = None
        cls._license_payload = None
        cls._validation_result = None
        cls._license = None
        cls._entitlements = None

    @classmethod
    def get_instance(cls) -> "LicenseManager":
        if cls._instance is None:
            cls.initialize()
        return cls()

    @property
    def is_licensed(self) -> bool:
        return self._license_payload is not None

    @property
    def tier(self) -> LicenseTier:
        return LicenseTier(self.entitlements.tier)

    @property
    def in_grace_period(self) -> bool:
        return bool(self._validation_result and self._validation_result.in_grace_period)

    @property
    def payload(self) -> Optional[LicensePayload]:
        return self._license_payload

    @property
    def license(self) -> Optional[License]:
        """The engine's verified license, if any."""
        return self._license

    @property
    def entitlements(self) -> Entitlements:
        """The instance's entitlements, resolved by the engine (again once they are stale)."""
        cls = type(self)
        ent = cls._entitlements
        if ent is None or ent.is_stale():
            ent = Entitlements.resolve(
                catalog=_CATALOG, license=self._license, license_features="exclusive"
            )
            cls._entitlements = ent
        return ent


def get_license_manager() -> LicenseManager:
    return LicenseManager.get_instance()


# ---- per-org entitlements from the host's records ------------------------------------------------

_org_lock = threading.Lock()


def _record_entitlements(payload: LicensePayload) -> Entitlements:
    """Entitlements of a payload held without its token (its tier and limits as a host record)."""
    return Entitlements.resolve(
        catalog=_CATALOG,
        now=0,
        org_license={"tier": payload.tier.value, "limits": payload.limits.model_dump()},
    )


def _org_entitlements(org_id: str) -> Optional[Entitlements]:
    """The org's entitlements from the host's record; ``None`` without a loader or a record."""
    if _org_loader is None:
        return None
    loaded = _org_loader(org_id)
    if loaded is None:
        return None
    org_tier, row = loaded
    record: Optional[Dict[str, Any]] = None
    if row is not None:
        record = {
            "tier": row.tier,
            "features": dict(row.features_override),
            "limits": dict(row.limits),
        }
    return Entitlements.resolve(
        catalog=_CATALOG,
        org_id=org_id,
        org_tier=org_tier,
        org_license=record,
    )


def _entitlements_for(org_id: Optional[str]) -> Entitlements:
    if org_id is not None:
        try:
            ent = _org_entitlements(org_id)
        except Exception:  # noqa: BLE001 - dev-health-ops falls back to the instance on a store error
            logger.warning("the org loader failed for %s; the instance license applies", org_id)
            ent = None
        if ent is not None:
            return ent
    return get_license_manager().entitlements


def _limit_value(value: Any) -> Any:
    """A limit as dev-health-ops reports it: ``-1`` for unlimited."""
    return UNLIMITED if value is None else value


def get_entitlements(org_id: Optional[str] = None) -> Dict[str, Any]:
    """``{"tier", "features", "limits": {"users", "repos", "api_rate"}, "is_licensed",
    "in_grace_period"}``. ``features`` is the license's own map when the instance is licensed,
    else every feature of the tier."""
    manager = get_license_manager()
    ent = _entitlements_for(org_id)
    payload = manager.payload
    if payload is not None and org_id is None:
        features: Dict[str, bool] = dict(payload.features)
    else:
        features = {key: ent.has(key) for key in _CATALOG.feature_keys}
    limits = {
        name: _limit_value(ent.check_limit(name, 0).maximum)
        for name in ("users", "repos", "api_rate")
    }
    return {
        "tier": ent.tier,
        "features": features,
        "limits": limits,
        "is_licensed": manager.is_licensed,
        "in_grace_period": manager.in_grace_period,
    }


def has_feature(feature: str, *, log_denial: bool = True, org_id: Optional[str] = None) -> bool:
    """Whether the feature is on: for the org (from the host's record) or the instance."""
    ent = _entitlements_for(org_id)
    allowed = ent.has(feature)
    if not allowed and log_denial:
        get_license_audit_logger().log_feature_access_denied(
            feature=feature, current_tier=ent.tier
        )
    return allowed


def check_limit(limit_name: str, current_value: Any, *, log_exceeded: bool = True) -> bool:
    """``current_value`` within the instance's limit (token or catalog name; ``-1`` unlimited)."""
    ent = get_license_manager().entitlements
    decision = ent.check_limit(limit_name, current_value)
    if decision.reason == "limit_not_registered":
        return False
    if not decision.allowed and log_exceeded:
        get_license_audit_logger().log_limit_exceeded(
            limit_name=limit_name,
            current_value=current_value,
            maximum=_limit_value(decision.maximum),
            current_tier=ent.tier,
        )
    return decision.allowed


def get_limit(limit_name: str) -> Any:
    """The instance's limit (``-1`` unlimited; ``0`` for a name the catalog does not have)."""
    decision = get_license_manager().entitlements.check_limit(limit_name, 0)
    if decision.reason == "limit_not_registered":
        return 0
    return _limit_value(decision.maximum)


class FeatureNotLicensedError(Exception):
    def __init__(self, feature: str, required_tier: Optional[str] = None) -> None:
        self.feature = feature
        self.required_tier = required_tier
        msg = f"Feature '{feature}' is not available"
        if required_tier:
            msg += f" (requires {required_tier} tier)"
        super().__init__(msg)


class LimitExceededError(Exception):
    def __init__(self, limit_name: str, current: Any, maximum: Any) -> None:
        self.limit_name = limit_name
        self.current = current
        self.maximum = maximum
        super().__init__(f"Limit '{limit_name}' exceeded: {current}/{maximum}")


def _http_exception(status_code: int, detail: Dict[str, Any]) -> Exception:
    from fastapi import HTTPException

    return HTTPException(status_code=status_code, detail=detail)


def require_feature(
    feature: str, *, required_tier: Optional[str] = None, raise_http: bool = True
) -> Callable[[F], F]:
    """Requires the feature for the call's org (``org_id`` / ``session`` keyword, or the host's
    resolver) or the instance. Denied: HTTP 402 ``{"error": "feature_not_licensed", "feature",
    "required_tier", "current_tier"}``, or :class:`FeatureNotLicensedError`. The check is
    this module's :func:`has_feature`, looked up on every call (tests may replace it)."""

    def deny(org_id: Optional[str]) -> None:
        current_tier = _entitlements_for(org_id).tier
        if raise_http:
            raise _http_exception(
                402,
                {
                    "error": "feature_not_licensed",
                    "feature": feature,
                    "required_tier": required_tier,
                    "current_tier": current_tier,
                },
            )
        raise FeatureNotLicensedError(feature, required_tier)

    def allowed(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[bool, Optional[str]]:
        org_id = _extract_org_id(args, kwargs)
        check = cast(Callable[..., bool], globals()["has_feature"])
        if org_id is None:
            return check(feature), None
        return check(feature, org_id=org_id), org_id

    def decorator(func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                ok, org_id = allowed(args, kwargs)
                if not ok:
                    deny(org_id)
                return await func(*args, **kwargs)

            setattr(async_wrapper, "_require_feature", feature)
            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ok, org_id = allowed(args, kwargs)
            if not ok:
                deny(org_id)
            return func(*args, **kwargs)

        setattr(wrapper, "_require_feature", feature)
        return cast(F, wrapper)

    return decorator


def require_limit(
    limit_name: str, get_current: Callable[[], Any], *, raise_http: bool = True
) -> Callable[[F], F]:
    """Requires ``get_current()`` to be within the instance's limit. Sync endpoints stay sync.
    Denied: HTTP 402 ``{"error": "limit_exceeded", "limit", "current", "maximum",
    "current_tier"}``, or :class:`LimitExceededError`."""

    def check() -> None:
        current = get_current()
        if not globals()["check_limit"](limit_name, current):
            maximum = get_limit(limit_name)
            if raise_http:
                raise _http_exception(
                    402,
                    {
                        "error": "limit_exceeded",
                        "limit": limit_name,
                        "current": current,
                        "maximum": maximum,
                        "current_tier": get_license_manager().tier.value,
                    },
                )
            raise LimitExceededError(limit_name, current, maximum)

    def decorator(func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                check()
                return await func(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check()
            return func(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
