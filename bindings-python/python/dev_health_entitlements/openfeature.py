"""An OpenFeature provider (``openfeature-sdk``, Python 3.10+) over the entitlements engine.

Boolean flags are features, number flags (float; integer where the bound is finite) are limits,
the string flag ``tier`` is the tier. The evaluation context names the org (``targeting_key``, or
the attribute ``org_id``) and may carry what :meth:`Entitlements.resolve` takes from the host:
``tier``, ``overrides`` (``[{"feature", "enabled", "expires_at"}]``) and ``kill_switches``
(``{feature: bool}``, merged with the provider's own; off wins). The engine evaluates and maps
its reasons onto OpenFeature's (core ``openfeature``); the engine's own reason is the flag
metadata ``engine_reason``.

::

    from openfeature import api
    from dev_health_entitlements.openfeature import EntitlementsProvider

    api.set_provider(EntitlementsProvider(license=verified_license))
    client = api.get_client()
    client.get_boolean_value("sso_saml", False, EvaluationContext("org_acme", {"tier": "team"}))
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, TypeVar, Union

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.hook import Hook
from openfeature.provider import AbstractProvider, Metadata

from ._native import Catalog, FlagEvaluator, License

__all__ = ["EntitlementsProvider"]

T = TypeVar("T")

#: The provider's name in OpenFeature metadata.
PROVIDER_NAME = "dev-health-entitlements"


class EntitlementsProvider(AbstractProvider):
    """Evaluates the engine's features, limits and tier as OpenFeature flags.

    ``license`` is the instance's verified license (or ``None``), ``catalog`` the catalog
    (default: the default catalog), ``kill_switches`` the host's global switches; ``hooks`` are
    provider hooks."""

    def __init__(
        self,
        *,
        license: Optional[License] = None,
        catalog: Optional[Catalog] = None,
        kill_switches: Optional[Mapping[str, bool]] = None,
        hooks: Sequence[Hook] = (),
    ) -> None:
        super().__init__()
        self._evaluator = FlagEvaluator(catalog, license, dict(kill_switches or {}))
        self._hooks = list(hooks)

    def get_metadata(self) -> Metadata:
        return Metadata(name=PROVIDER_NAME)

    def get_provider_hooks(self) -> List[Hook]:
        return list(self._hooks)

    def _evaluate(
        self,
        key: str,
        flag_type: str,
        default: T,
        context: Optional[EvaluationContext],
    ) -> FlagResolutionDetails[Any]:
        attributes: Dict[str, Any] = {}
        if context is not None:
            attributes.update(context.attributes)
            if context.targeting_key:
                attributes["targetingKey"] = context.targeting_key
        try:
            value, reason, error_code, message, engine_reason = self._evaluator.evaluate(
                key, flag_type, attributes
            )
        except (TypeError, ValueError) as err:
            # An attribute that is not JSON (a datetime, say): the context cannot be read.
            value, reason, error_code, message, engine_reason = (
                None, "ERROR", "PARSE_ERROR", f"the evaluation context is not JSON: {err}", None
            )
        metadata = {"engine_reason": engine_reason} if engine_reason else {}
        if error_code is not None:
            return FlagResolutionDetails(
                value=default,
                reason=Reason.ERROR,
                error_code=ErrorCode(error_code),
                error_message=message,
                flag_metadata=metadata,
            )
        return FlagResolutionDetails(
            value=value, reason=Reason(reason), flag_metadata=metadata
        )

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[bool]:
        """A feature: whether the org has it."""
        return self._evaluate(flag_key, "boolean", default_value, evaluation_context)

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[str]:
        """``tier``: the org's tier."""
        return self._evaluate(flag_key, "string", default_value, evaluation_context)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[float]:
        """A limit's bound in force (``inf`` / ``-inf`` when unlimited)."""
        return self._evaluate(flag_key, "number", default_value, evaluation_context)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[int]:
        """A limit's bound in force as an integer; an unlimited or fractional bound is
        ``TYPE_MISMATCH`` (read it as a float)."""
        details = self._evaluate(flag_key, "number", default_value, evaluation_context)
        if details.error_code is not None:
            return details
        bound = float(details.value)
        if not math.isfinite(bound) or not bound.is_integer():
            return FlagResolutionDetails(
                value=default_value,
                reason=Reason.ERROR,
                error_code=ErrorCode.TYPE_MISMATCH,
                error_message=f"the bound of {flag_key!r} is {bound}: read it as a float",
                flag_metadata=details.flag_metadata,
            )
        details.value = int(bound)
        return details

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Union[Sequence[Any], Mapping[str, Any]],
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[Union[Sequence[Any], Mapping[str, Any]]]:
        """No object flags: ``TYPE_MISMATCH`` for a known key, ``FLAG_NOT_FOUND`` otherwise."""
        return self._evaluate(flag_key, "object", default_value, evaluation_context)
