"""FastAPI glue: ``require_feature``, ``require_limit`` and ``require_permission``.

Each works as a decorator (under the route decorator) and as a dependency::

    from fastapi import Depends, FastAPI
    from dev_health_entitlements.fastapi import (
        EntitlementsMiddleware, Licensing, OrgRecord, require_feature, require_limit,
        require_permission,
    )

    licensing = Licensing(session_verifier=sessions, org_loader=load_org)
    app = FastAPI()
    app.add_middleware(EntitlementsMiddleware, licensing=licensing)

    @app.get("/reports/forecast")
    @require_feature("capacity_forecast")
    async def forecast(team: str) -> dict: ...

    @app.post("/members", dependencies=[Depends(require_permission("members:invite"))])
    def invite() -> dict: ...

Which entitlements apply is never read from endpoint arguments: the middleware (or the
``licensing.dependency`` dependency) verifies the request's session JWT, asks the host's loader for
the org's tier, overrides and kill switches, resolves them with the engine and puts the result in a
request-scoped context variable. A request without a session, or an app without the middleware,
gets the instance license from the environment (``DEV_HEALTH_LICENSE`` ... with the keys of
``DEV_HEALTH_LICENSE_PUBLIC_KEYS`` / ``LICENSE_PUBLIC_KEY``), or community without one.

Every decision is the engine's: the glue asks ``Entitlements.has`` / ``check`` / ``check_limit`` /
``can`` and presents a denial the way the engine classifies it (``Decision.denial``). Licenses are
verified once and cached; resolved entitlements are cached per org and resolved again when the
engine says they are stale (a license entering grace or expiring, an override lapsing) or the
loader returns different data. Per-request checks are set lookups.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import logging
import threading
import time
import typing
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)
from contextlib import contextmanager

from fastapi import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import (
    EntitlementDenied,
    FeatureNotEnabled,
    FeatureNotLicensed,
    LicenseError,
    LimitExceeded,
    PermissionDenied,
)
from ._native import (
    Catalog,
    StripeEvent,
    Decision,
    Entitlements,
    License,
    LimitDecision,
    Session,
    SessionVerifier,
    Verifier,
    license_token_from_env,
    permission_denial,
    verify_stripe_signature,
)

__all__ = [
    "DEFAULT_UPGRADE_URL",
    "EntitlementsMiddleware",
    "Licensing",
    "OrgRecord",
    "RequestEntitlements",
    "current_entitlements",
    "current_context",
    "require_feature",
    "require_limit",
    "require_permission",
    "set_instance_licensing",
    "stripe_event_from_request",
    "use_entitlements",
]

#: Where the 402 body's ``upgrade_url`` points unless ``Licensing(upgrade_url=...)`` says otherwise.
DEFAULT_UPGRADE_URL = "/org/admin/settings"

#: How long a license that failed verification is not tried again (seconds).
_FAILED_LICENSE_RETRY_SECS = 60

_log = logging.getLogger("dev_health_entitlements")

F = TypeVar("F", bound=Callable[..., Any])
Number = Union[int, float]


@dataclasses.dataclass(frozen=True)
class OrgRecord:
    """What the host's org loader returns for an org id.

    ``tier``: the org's own (billing) tier, or ``None``; ``overrides``: ``{"feature", "enabled",
    "expires_at"?}`` mappings; ``kill_switches``: feature -> enabled, for every org; ``license``: the
    org's own license token (for example the SaaS license the server signed), verified once;
    ``org_license``: the host's trusted license record for the org (``{"tier"?, "features"?,
    "limits"?, "expires_at"?}``, e.g. a database row), standing where a signed license would when
    none is valid.
    """

    tier: Optional[str] = None
    overrides: Sequence[Mapping[str, Any]] = ()
    kill_switches: Mapping[str, bool] = dataclasses.field(default_factory=dict)
    license: Optional[str] = None
    org_license: Optional[Mapping[str, Any]] = None


OrgLoader = Callable[[str], Union[Optional[OrgRecord], Awaitable[Optional[OrgRecord]]]]


@dataclasses.dataclass(frozen=True)
class RequestEntitlements:
    """The entitlements a request runs under, with the session they came from (if any)."""

    entitlements: Entitlements
    org_id: Optional[str] = None
    session: Optional[Session] = None
    upgrade_url: str = DEFAULT_UPGRADE_URL

    @property
    def role(self) -> Optional[str]:
        """The session's role, or ``None`` without a session."""
        return self.session.role if self.session is not None else None


class Licensing:
    """Turns requests into entitlements: session JWT -> org -> loader -> engine resolution.

    ``session_verifier`` checks bearer tokens; ``org_loader(org_id)`` (sync or async) returns the
    org's :class:`OrgRecord` (or ``None`` for an org it does not know: community, no overrides);
    ``catalog`` defaults to the default catalog; ``verifier`` verifies licenses (default
    ``Verifier.from_env(catalog=catalog)``); ``license_token`` is the instance license (default:
    the environment, when ``instance_license_from_env``); ``clock`` returns Unix seconds.
    """

    def __init__(
        self,
        *,
        session_verifier: Optional[SessionVerifier] = None,
        org_loader: Optional[OrgLoader] = None,
        catalog: Optional[Catalog] = None,
        verifier: Optional[Verifier] = None,
        license_token: Optional[str] = None,
        instance_license_from_env: bool = True,
        clock: Callable[[], float] = time.time,
        upgrade_url: str = DEFAULT_UPGRADE_URL,
    ) -> None:
        self.session_verifier = session_verifier
        self.org_loader = org_loader
        self.catalog = catalog if catalog is not None else Catalog.default()
        self.clock = clock
        self.upgrade_url = upgrade_url
        self._verifier = verifier
        self._instance_token = license_token
        self._instance_token_from_env = instance_license_from_env and license_token is None
        self._lock = threading.Lock()
        self._licenses: Dict[str, Union[License, Tuple[LicenseError, int]]] = {}
        self._orgs: Dict[str, Tuple[Optional[OrgRecord], Entitlements]] = {}
        self._instance: Optional[RequestEntitlements] = None

    def now(self) -> int:
        """The clock, in whole Unix seconds."""
        return int(self.clock())

    @property
    def verifier(self) -> Verifier:
        """The license verifier (created from the environment on first use)."""
        if self._verifier is None:
            self._verifier = Verifier.from_env(catalog=self.catalog)
        return self._verifier

    def license(self, token: Optional[str], now: Optional[int] = None) -> Optional[License]:
        """The verified license for a token, verified once; ``None`` without a token or when it
        does not verify (the failure is remembered for a minute, then tried again)."""
        if not token:
            return None
        cached = self._licenses.get(token)
        if isinstance(cached, License):
            return cached
        now = self.now() if now is None else now
        if cached is not None and now < cached[1]:
            return None
        try:
            verified: Union[License, Tuple[LicenseError, int]] = self.verifier.verify(token, now)
        except LicenseError as error:
            _log.warning("the license does not verify (%s); it is ignored", error)
            verified = (error, now + _FAILED_LICENSE_RETRY_SECS)
        with self._lock:
            self._licenses[token] = verified
        return verified if isinstance(verified, License) else None

    def license_error(self, token: str) -> Optional[LicenseError]:
        """Why a token did not verify, if it was tried and failed."""
        cached = self._licenses.get(token)
        return cached[0] if isinstance(cached, tuple) else None

    def instance_token(self) -> Optional[str]:
        """The instance license token: as given, else from the environment (read once). One that
        cannot be read (``DEV_HEALTH_LICENSE_FILE`` naming a missing file) is logged and the
        instance runs without a license, as with a token that does not verify."""
        if self._instance_token_from_env:
            self._instance_token_from_env = False
            try:
                self._instance_token = license_token_from_env()
            except LicenseError as error:
                _log.warning("the instance license cannot be read (%s); it is ignored", error)
                self._instance_token = None
        return self._instance_token

    def instance_context(self, now: Optional[int] = None) -> RequestEntitlements:
        """The instance's entitlements (no org): the instance license, else community. Cached and
        resolved again when the engine says they are stale."""
        now = self.now() if now is None else now
        cached = self._instance
        if cached is not None and not cached.entitlements.is_stale(now):
            return cached
        lic = self.license(self.instance_token(), now)
        context = RequestEntitlements(
            Entitlements.resolve(catalog=self.catalog, license=lic, now=now),
            upgrade_url=self.upgrade_url,
        )
        self._instance = context
        return context

    async def load_org(self, org_id: str) -> Optional[OrgRecord]:
        """Calls the host's loader (sync or async)."""
        if self.org_loader is None:
            return None
        record = self.org_loader(org_id)
        if inspect.isawaitable(record):
            record = await record
        return record

    def resolve_org(
        self, org_id: str, record: Optional[OrgRecord], now: Optional[int] = None
    ) -> Entitlements:
        """An org's entitlements from its record: the org's own license if it has one, else the
        instance license (the engine applies a SaaS license only to its own org). Reuses the
        cached resolution while the record is unchanged and the engine does not call it stale."""
        now = self.now() if now is None else now
        cached = self._orgs.get(org_id)
        if cached is not None and cached[0] == record and not cached[1].is_stale(now):
            return cached[1]
        record_license = self.license(record.license, now) if record is not None else None
        lic = record_license or self.license(self.instance_token(), now)
        entitlements = Entitlements.resolve(
            catalog=self.catalog,
            license=lic,
            org_id=org_id,
            org_tier=record.tier if record is not None else None,
            # Any Mapping (a database row's mapping, a MappingProxyType): the engine reads dicts.
            overrides=[dict(o) for o in record.overrides] if record is not None else None,
            kill_switches=dict(record.kill_switches) if record is not None else None,
            now=now,
            org_license=dict(record.org_license)
            if record is not None and record.org_license is not None
            else None,
        )
        with self._lock:
            self._orgs[org_id] = (record, entitlements)
        return entitlements

    async def context_for_org(
        self, org_id: str, session: Optional[Session] = None
    ) -> RequestEntitlements:
        """The entitlements of an org (loading its record), for hosts with their own auth."""
        record = await self.load_org(org_id)
        entitlements = self.resolve_org(org_id, record)
        return RequestEntitlements(entitlements, org_id, session, self.upgrade_url)

    async def context_for_authorization(self, authorization: Optional[str]) -> RequestEntitlements:
        """The entitlements for an ``Authorization`` header: a bearer session -> its org; none ->
        the instance. An invalid session raises ``LicenseError`` (the middleware answers 401)."""
        token = _bearer(authorization)
        if token is None or self.session_verifier is None:
            return self.instance_context()
        session = self.session_verifier.verify(token, self.now())
        return await self.context_for_org(session.org_id, session)

    async def dependency(self, request: Request) -> RequestEntitlements:
        """A FastAPI dependency doing what the middleware does, for apps that prefer
        ``FastAPI(dependencies=[Depends(licensing.dependency)])``. Returns the context."""
        try:
            context = await self.context_for_authorization(request.headers.get("authorization"))
        except LicenseError as error:
            raise HTTPException(401, detail=_invalid_session(error)) from None
        _current.set(context)
        return context


def _bearer(authorization: Optional[str]) -> Optional[str]:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _invalid_session(error: LicenseError) -> Dict[str, Any]:
    return {"error": "invalid_session", "code": error.code, "message": error.message}


class EntitlementsMiddleware:
    """ASGI middleware that sets the request's entitlements (see :class:`Licensing`).

    A bearer token that is not a valid session is answered with 401
    ``{"detail":{"error":"invalid_session","code","message"}}`` (a WebSocket is closed with 1008).
    """

    def __init__(self, app: ASGIApp, licensing: Licensing) -> None:
        self.app = app
        self.licensing = licensing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            context = await self.licensing.context_for_authorization(authorization)
        except LicenseError as error:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": error.code})
            else:
                await _send_json(send, 401, {"detail": _invalid_session(error)})
            return
        token = _current.set(context)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


async def _send_json(send: Send, status: int, body: Mapping[str, Any]) -> None:
    import json

    payload = json.dumps(body).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": payload})


_current: contextvars.ContextVar[Optional[RequestEntitlements]] = contextvars.ContextVar(
    "dev_health_entitlements_request", default=None
)
_instance_licensing: Optional[Licensing] = None


def set_instance_licensing(licensing: Optional[Licensing]) -> None:
    """Sets the :class:`Licensing` used when no middleware or dependency set a context (``None``
    makes the next use build one from the environment again)."""
    global _instance_licensing
    _instance_licensing = licensing


def _fallback() -> RequestEntitlements:
    global _instance_licensing
    licensing = _instance_licensing
    if licensing is None:
        licensing = _instance_licensing = Licensing()
    return licensing.instance_context()


def current_context() -> RequestEntitlements:
    """The entitlements the current request runs under (the instance's without a context)."""
    context = _current.get()
    return context if context is not None else _fallback()


def current_entitlements() -> Entitlements:
    """``current_context().entitlements``; also usable as ``Depends(current_entitlements)``."""
    return current_context().entitlements


@contextmanager
def use_entitlements(
    entitlements: Entitlements,
    *,
    org_id: Optional[str] = None,
    session: Optional[Session] = None,
    upgrade_url: str = DEFAULT_UPGRADE_URL,
) -> Iterator[RequestEntitlements]:
    """Runs the block under these entitlements (for hosts with their own auth, jobs, tests)."""
    context = RequestEntitlements(
        entitlements, org_id or entitlements.org_id, session, upgrade_url
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


# Denials: the engine (core `web`) picks the status, the body and the message.

_DENIALS: Dict[str, Type[EntitlementDenied]] = {
    "feature_not_licensed": FeatureNotLicensed,
    "feature_not_enabled": FeatureNotEnabled,
    "limit_exceeded": LimitExceeded,
    "permission_denied": PermissionDenied,
}


def _denial(answer: Dict[str, Any]) -> EntitlementDenied:
    return _DENIALS[answer["error"]](answer["detail"], answer["status"], answer["message"])


def _feature_denial(
    context: RequestEntitlements, decision: Decision, required_tier: Optional[str]
) -> EntitlementDenied:
    answer = context.entitlements.feature_denial(
        decision.feature, required_tier, context.upgrade_url
    )
    assert answer is not None, "called for a denied feature"
    return _denial(answer)


def _limit_denial(context: RequestEntitlements, decision: LimitDecision) -> EntitlementDenied:
    answer = context.entitlements.limit_denial(decision.limit, decision.current)
    assert answer is not None, "called for a crossed limit"
    return _denial(answer)


def _permission_denial(permission: str, role: Optional[str]) -> EntitlementDenied:
    return _denial(permission_denial(permission, role))


def _raise(denial: EntitlementDenied, raise_http: bool) -> None:
    if raise_http:
        raise HTTPException(status_code=denial.status_code, detail=denial.detail)
    raise denial


class _Requirement:
    """A check usable as a decorator (``@require_feature(...)``) and as a dependency
    (``Depends(require_feature(...))``).

    As a dependency, FastAPI sees the parameterless coroutine ``__wrapped__`` (so it awaits the
    check in the request's task, no thread hop) and calls the object without arguments.

    FastAPI before it unwrapped dependencies (every release the ``fastapi>=0.100`` floor allows up
    to about 0.122) decides whether to await a callable object by looking up ``__call__`` on the
    object: the type's ``__call__`` is a plain method, so it ran it in a thread pool and never
    awaited the coroutine it returned, and the check was skipped (the request went through). The
    instance attribute ``__call__`` below names the coroutine for that look-up; calling the object
    still goes through the type's ``__call__``.
    """

    tag: str

    def __init__(self, value: Any) -> None:
        self.value = value
        self.__wrapped__ = self._dependency
        # Seen by getattr(obj, "__call__") (FastAPI's coroutine test), not by obj(...) calls.
        setattr(self, "__call__", self._dependency)

    async def _dependency(self) -> Any:
        raise NotImplementedError  # pragma: no cover - every requirement overrides it

    def _decorate(self, endpoint: F) -> F:
        raise NotImplementedError  # pragma: no cover - every requirement overrides it

    @overload
    def __call__(self) -> Awaitable[Any]: ...

    @overload
    def __call__(self, endpoint: F) -> F: ...

    def __call__(self, endpoint: Optional[F] = None) -> Union[F, Awaitable[Any]]:
        if endpoint is None:
            return self._dependency()
        wrapper = self._decorate(endpoint)
        _resolve_signature(wrapper, endpoint)
        setattr(wrapper, self.tag, self.value)
        return wrapper


def _resolve_signature(wrapper: Callable[..., Any], endpoint: Callable[..., Any]) -> None:
    """Gives the wrapper the endpoint's signature with its annotations resolved in the endpoint's
    module. FastAPI before about 0.123 resolved string annotations (``from __future__ import
    annotations``) in the wrapper's ``__globals__``, this module's: a body model of the endpoint's
    module was not found there and became a required query parameter (422 on every request).
    Left as it was when an annotation cannot be resolved (FastAPI then tries as before)."""
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
        signature = inspect.signature(endpoint)
    except Exception:  # noqa: BLE001 - unresolvable: FastAPI resolves (or reports) it itself
        return
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    resolved = signature.replace(
        parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
    )
    setattr(wrapper, "__signature__", resolved)


#: A host's "which org is this call for": given the endpoint's positional and keyword arguments,
#: the entitlements to decide with (``Entitlements`` or a ``RequestEntitlements``), or ``None`` for
#: the request's context.
OrgLookup = Callable[
    [Tuple[Any, ...], Dict[str, Any]], Union[Entitlements, RequestEntitlements, None]
]


class _FeatureRequirement(_Requirement):
    tag = "_require_feature"

    def __init__(
        self,
        feature: str,
        required_tier: Optional[str],
        raise_http: bool,
        org_lookup: Optional[OrgLookup] = None,
    ) -> None:
        if required_tier is not None:
            # The core's tier reader, now rather than on the first denial (a 500 there).
            Entitlements.resolve(now=0).upgrade_gate(feature, required_tier)
        super().__init__(feature)
        self.feature = feature
        self.required_tier = required_tier
        self.raise_http = raise_http
        self.org_lookup = org_lookup

    def context_for(
        self, args: Tuple[Any, ...] = (), kwargs: Optional[Dict[str, Any]] = None
    ) -> RequestEntitlements:
        """The entitlements a call runs under: the host's ``org_lookup`` answer for its
        arguments, else the request's context (else the instance's)."""
        if self.org_lookup is not None:
            found = self.org_lookup(args, kwargs or {})
            if isinstance(found, RequestEntitlements):
                return found
            if found is not None:
                return RequestEntitlements(found, found.org_id, upgrade_url=_upgrade_url())
        context = _current.get()
        return context if context is not None else _fallback()

    def check(self, context: Optional[RequestEntitlements] = None) -> Optional[Decision]:
        """Passes (returning ``None``) or raises the denial; a set lookup when allowed. The
        wrappers call it through the requirement on every call, so a test may replace it
        (``monkeypatch.setattr(requirement, "check", ...)``)."""
        if context is None:
            context = self.context_for()
        if context.entitlements.has(self.feature):
            return None
        decision = context.entitlements.check(self.feature)
        _raise(_feature_denial(context, decision, self.required_tier), self.raise_http)
        return decision  # pragma: no cover - _raise always raises

    async def _dependency(self) -> Decision:
        self.check()
        return current_entitlements().check(self.feature)

    def _decorate(self, endpoint: F) -> F:
        requirement = self
        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                requirement.check(requirement.context_for(args, kwargs))
                return await endpoint(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(endpoint)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            requirement.check(requirement.context_for(args, kwargs))
            return endpoint(*args, **kwargs)

        return cast(F, wrapper)


def _upgrade_url() -> str:
    context = _current.get()
    return context.upgrade_url if context is not None else DEFAULT_UPGRADE_URL


#: The value a request would bring the org to: ``get_current(context)`` or ``get_current()``.
CurrentValue = Union[
    Callable[[RequestEntitlements], Union[Number, Awaitable[Number]]],
    Callable[[], Union[Number, Awaitable[Number]]],
]


def _takes_context(get_current: Callable[..., Any]) -> bool:
    """Whether ``get_current`` takes the context (one positional argument) or nothing."""
    try:
        parameters = inspect.signature(get_current).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: called with the context
        return True
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    return bool(positional)


class _LimitRequirement(_Requirement):
    tag = "_require_limit"

    def __init__(self, limit: str, get_current: CurrentValue, raise_http: bool) -> None:
        super().__init__(limit)
        self.limit = limit
        self.get_current = get_current
        self.raise_http = raise_http
        self._with_context = _takes_context(get_current)

    def _current_value(self, context: RequestEntitlements) -> Union[Number, Awaitable[Number]]:
        if self._with_context:
            with_context = cast(
                Callable[[RequestEntitlements], Union[Number, Awaitable[Number]]],
                self.get_current,
            )
            return with_context(context)
        without = cast(Callable[[], Union[Number, Awaitable[Number]]], self.get_current)
        return without()

    def decide(self, context: RequestEntitlements, current: Number) -> LimitDecision:
        """The engine's decision for ``current``; raises the denial when it is beyond."""
        decision = context.entitlements.check_limit(self.limit, current)
        if not decision.allowed:
            _raise(_limit_denial(context, decision), self.raise_http)
        return decision

    def check_sync(self) -> LimitDecision:
        """The check for a sync endpoint, in its own thread: ``get_current`` must be sync."""
        context = current_context()
        current = self._current_value(context)
        if inspect.isawaitable(current):
            if inspect.iscoroutine(current):
                current.close()
            raise TypeError(
                f"require_limit({self.limit!r}): get_current is async; a sync endpoint needs a "
                "sync get_current (or make the endpoint async)"
            )
        return self.decide(context, current)

    async def check(self) -> LimitDecision:
        context = current_context()
        current = self._current_value(context)
        if inspect.isawaitable(current):
            current = await current
        return self.decide(context, current)

    async def _dependency(self) -> LimitDecision:
        return await self.check()

    def _decorate(self, endpoint: F) -> F:
        requirement = self
        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                await requirement.check()
                return await endpoint(*args, **kwargs)

            return cast(F, async_wrapper)

        # A sync endpoint stays sync: FastAPI runs it (and so the check) in its thread pool.
        @functools.wraps(endpoint)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            requirement.check_sync()
            return endpoint(*args, **kwargs)

        return cast(F, wrapper)


class _PermissionRequirement(_Requirement):
    tag = "_require_permission"

    def __init__(self, permission: str, raise_http: bool) -> None:
        super().__init__(permission)
        self.permission = permission
        self.raise_http = raise_http

    def check(self) -> None:
        context = current_context()
        role = context.role
        if role is None or not context.entitlements.can(role, self.permission):
            _raise(_permission_denial(self.permission, role), self.raise_http)

    async def _dependency(self) -> None:
        self.check()

    def _decorate(self, endpoint: F) -> F:
        check = self.check
        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                check()
                return await endpoint(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(endpoint)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check()
            return endpoint(*args, **kwargs)

        return cast(F, wrapper)


def require_feature(
    feature: str,
    *,
    required_tier: Optional[str] = None,
    raise_http: bool = True,
    org_lookup: Optional[OrgLookup] = None,
) -> _FeatureRequirement:
    """Requires a feature. Denied: 402 ``feature_not_licensed`` when a purchase unlocks it, 403
    ``feature_not_enabled`` when an administrator turned it off (or it is unknown). With
    ``raise_http=False`` raises :class:`FeatureNotLicensed` / :class:`FeatureNotEnabled`.
    ``required_tier`` only raises the tier named in the 402 body; the engine decides. A name
    that is not a tier raises :class:`LicenseError` (``invalid_input``) here. ``org_lookup(args,
    kwargs)``, as a decorator, is the host's own "which org is this call for" (from a ``session``
    or ``org_id`` argument, say): it returns the entitlements to decide with, or ``None`` for
    the request's context."""
    return _FeatureRequirement(feature, required_tier, raise_http, org_lookup)


def require_limit(
    limit: str, get_current: CurrentValue, *, raise_http: bool = True
) -> _LimitRequirement:
    """Requires ``get_current(context)`` or ``get_current()`` (the value the request would bring
    the org to, e.g. the member count after an invite) to be within the org's ``limit`` (a
    catalog or a token name: ``users`` is ``max_users``). A sync endpoint stays sync (its check
    runs with it, and ``get_current`` must then be sync); an async one may have an async
    ``get_current``. Denied: 402 ``limit_exceeded``; with ``raise_http=False``
    :class:`LimitExceeded` (``limit_name``, ``current``, ``maximum``)."""
    return _LimitRequirement(limit, get_current, raise_http)


def require_permission(permission: str, *, raise_http: bool = True) -> _PermissionRequirement:
    """Requires the session's role to have ``permission`` in the catalog. Denied (no session, or
    the role lacks it): 403 ``permission_denied``; with ``raise_http=False``
    :class:`PermissionDenied`."""
    return _PermissionRequirement(permission, raise_http)


#: The largest Stripe webhook body accepted (SPEC §5).
MAX_STRIPE_BODY_BYTES = 1024 * 1024


async def stripe_event_from_request(
    request: Request,
    secrets: Union[str, Sequence[str]],
    *,
    tolerance: int = 300,
    clock: Callable[[], float] = time.time,
) -> StripeEvent:
    """The verified Stripe event of a webhook request, as SPEC §5 receives it: a body over 1 MiB
    is 413; a missing, malformed, forged or stale ``Stripe-Signature`` is 400
    ``{"detail":"Invalid Stripe signature"}``. Pass the result to ``apply_stripe_event``.
    """
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_STRIPE_BODY_BYTES:
            raise HTTPException(413, detail="Request body too large")
    header = request.headers.get("stripe-signature", "")
    try:
        verify_stripe_signature(bytes(body), header, secrets, int(clock()), tolerance)
        return StripeEvent.parse(bytes(body))
    except LicenseError as error:
        if error.code == "invalid_stripe_event":
            raise HTTPException(400, detail="Invalid Stripe event") from None
        raise HTTPException(400, detail="Invalid Stripe signature") from None
