"""A real FastAPI app behind the glue: every denial body of SPEC §4, allowed paths, sync and async
routes, OpenAPI intact, two orgs in one process, the instance-license fallback, expiry while the
process runs."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from typing import Any, Dict, Iterator, List, Optional

import pytest
from fastapi import Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

import dev_health_entitlements as dhe
from dev_health_entitlements import fastapi as dfa
from helpers import DAY, KID, NOW, license_token, vendor_key, zero_key

ORGS: Dict[str, dfa.OrgRecord] = {
    "org_ent": dfa.OrgRecord(tier="enterprise"),
    "org_com": dfa.OrgRecord(tier="community"),
    "org_team": dfa.OrgRecord(
        tier="team",
        kill_switches={"webhooks": False},
        overrides=[{"feature": "api_access", "enabled": False}],
    ),
}
MEMBERS = {"org_ent": 40, "org_com": 3, "org_team": 3}


class Clock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


def session(org_id: str, role: str = "admin", exp: int = NOW + 365 * DAY) -> Dict[str, str]:
    token = zero_key().sign_jwt(
        {"sub": "u1", "email": "u@example.com", "org_id": org_id, "role": role, "exp": exp}, KID
    )
    return {"Authorization": f"Bearer {token}"}


def member_count_after_invite(context: dfa.RequestEntitlements) -> int:
    return MEMBERS[context.org_id or ""] + 1


async def async_member_count(context: dfa.RequestEntitlements) -> int:
    return MEMBERS[context.org_id or ""]


def build_app(dependencies: Optional[List[Any]] = None) -> FastAPI:
    app = FastAPI(dependencies=dependencies)

    @app.get("/forecast")
    @dfa.require_feature("capacity_forecast")
    async def forecast(team: str, weeks: int = 4) -> Dict[str, Any]:
        return {"team": team, "weeks": weeks}

    @app.get("/sso")
    @dfa.require_feature("sso_saml")
    def sso(q: int = 0) -> Dict[str, Any]:
        return {"q": q}

    @app.get("/webhooks", dependencies=[Depends(dfa.require_feature("webhooks"))])
    def webhooks() -> Dict[str, str]:
        return {"ok": "webhooks"}

    @app.get("/api")
    async def api(decision: dhe.Decision = Depends(dfa.require_feature("api_access"))) -> Any:
        return decision.to_dict()

    @app.get("/explicit")
    @dfa.require_feature("sso_saml", required_tier="enterprise", raise_http=False)
    async def explicit() -> Dict[str, str]:
        return {"ok": "explicit"}

    @app.post("/members")
    @dfa.require_limit("max_users", member_count_after_invite)
    def invite(email: str) -> Dict[str, str]:
        return {"invited": email}

    @app.post("/members-async", dependencies=[Depends(dfa.require_limit("max_users", async_member_count))])
    async def invite_async() -> Dict[str, str]:
        return {"ok": "counted"}

    @app.delete("/org")
    @dfa.require_permission("org:delete")
    def delete_org() -> Dict[str, str]:
        return {"deleted": "yes"}

    @app.get("/settings", dependencies=[Depends(dfa.require_permission("settings:write"))])
    async def settings() -> Dict[str, str]:
        return {"ok": "settings"}

    @app.get("/whoami")
    async def whoami(ent: dhe.Entitlements = Depends(dfa.current_entitlements)) -> Any:
        return {"tier": ent.tier, "org_id": ent.org_id}

    @app.exception_handler(dhe.FeatureNotLicensed)
    async def not_licensed(request: Request, exc: dhe.FeatureNotLicensed) -> JSONResponse:
        return JSONResponse({"raised": exc.code, "detail": exc.detail}, status_code=499)

    return app


def load_org(org_id: str) -> Optional[dfa.OrgRecord]:
    return ORGS.get(org_id)


def licensing(clock: Optional[Clock] = None, **options: Any) -> dfa.Licensing:
    return dfa.Licensing(
        session_verifier=dhe.SessionVerifier(zero_key().keyring(KID)),
        org_loader=load_org,
        verifier=dhe.Verifier(zero_key().keyring(KID)),
        clock=clock or Clock(),
        **options,
    )


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = build_app()
    app.add_middleware(
        dfa.EntitlementsMiddleware, licensing=licensing(instance_license_from_env=False)
    )
    with TestClient(app) as c:
        yield c


@pytest.fixture(autouse=True)
def no_instance_license(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("DEV_HEALTH_LICENSE", "LICENSE_KEY", "DEV_HEALTH_LICENSE_FILE"):
        monkeypatch.delenv(name, raising=False)
    dfa.set_instance_licensing(None)
    yield
    dfa.set_instance_licensing(None)


def test_allowed_on_async_and_sync_routes(client: TestClient) -> None:
    ent = session("org_ent")
    assert client.get("/forecast?team=a&weeks=2", headers=ent).json() == {"team": "a", "weeks": 2}
    assert client.get("/sso?q=5", headers=ent).json() == {"q": 5}
    assert client.get("/webhooks", headers=ent).json() == {"ok": "webhooks"}


def test_feature_not_licensed_is_402_with_the_spec_body(client: TestClient) -> None:
    response = client.get("/forecast?team=a", headers=session("org_com"))
    assert response.status_code == 402
    assert response.json() == {
        "detail": {
            "error": "feature_not_licensed",
            "feature": "capacity_forecast",
            "required_tier": "team",
            "current_tier": "community",
            "upgrade_url": "/org/admin/settings",
        }
    }
    sync = client.get("/sso", headers=session("org_com"))
    assert sync.status_code == 402 and sync.json()["detail"]["required_tier"] == "enterprise"


def test_feature_not_enabled_is_403_for_a_kill_switch_and_an_override(client: TestClient) -> None:
    response = client.get("/webhooks", headers=session("org_team"))
    assert response.status_code == 403
    assert response.json() == {
        "detail": {
            "error": "feature_not_enabled",
            "feature": "webhooks",
            "message": "The feature 'webhooks' is turned off by a kill switch.",
        }
    }
    overridden = client.get("/api", headers=session("org_team"))
    assert overridden.status_code == 403
    assert overridden.json()["detail"]["error"] == "feature_not_enabled"
    assert "this organization" in overridden.json()["detail"]["message"]


def test_the_dependency_form_returns_the_engine_decision(client: TestClient) -> None:
    assert client.get("/api", headers=session("org_ent")).json() == {
        "feature": "api_access",
        "allowed": True,
        "reason": "enabled_by_tier",
        "current_tier": "enterprise",
        "required_tier": "team",
        "expires_at": None,
    }


def test_limit_exceeded_is_402_with_the_spec_body(client: TestClient) -> None:
    response = client.post("/members?email=x@y.z", headers=session("org_com"))
    assert response.status_code == 402
    assert response.json() == {
        "detail": {
            "error": "limit_exceeded",
            "limit": "max_users",
            "current": 4,
            "maximum": 3,
            "current_tier": "community",
        }
    }
    assert client.post("/members?email=x@y.z", headers=session("org_ent")).json() == {
        "invited": "x@y.z"
    }
    # The async counter returns 3 for org_com: at the limit is within it.
    assert client.post("/members-async", headers=session("org_com")).status_code == 200


def test_permission_denied_is_403_with_the_spec_body(client: TestClient) -> None:
    response = client.delete("/org", headers=session("org_ent", role="viewer"))
    assert response.status_code == 403
    assert response.json() == {
        "detail": {"error": "permission_denied", "permission": "org:delete", "role": "viewer"}
    }
    assert client.delete("/org", headers=session("org_ent", role="owner")).status_code == 200
    assert client.get("/settings", headers=session("org_com", role="admin")).status_code == 200
    no_session = client.get("/settings")
    assert no_session.status_code == 403 and no_session.json()["detail"]["role"] is None


def test_raise_http_false_raises_feature_not_licensed(client: TestClient) -> None:
    response = client.get("/explicit", headers=session("org_com"))
    assert response.status_code == 499
    assert response.json()["raised"] == "feature_not_licensed"
    assert response.json()["detail"]["required_tier"] == "enterprise"


def test_two_orgs_with_different_tiers_in_one_process(client: TestClient) -> None:
    for _ in range(2):
        assert client.get("/whoami", headers=session("org_ent")).json() == {
            "tier": "enterprise",
            "org_id": "org_ent",
        }
        assert client.get("/whoami", headers=session("org_com")).json() == {
            "tier": "community",
            "org_id": "org_com",
        }
        assert client.get("/sso", headers=session("org_ent")).status_code == 200
        assert client.get("/sso", headers=session("org_com")).status_code == 402


def test_an_invalid_session_is_401(client: TestClient) -> None:
    expired = client.get("/whoami", headers=session("org_ent", exp=NOW - 3600))
    assert expired.status_code == 401
    assert expired.json()["detail"]["code"] == "session_expired"
    forged = client.get("/whoami", headers={"Authorization": "Bearer " + license_token()})
    assert forged.status_code == 401


def test_openapi_keeps_the_endpoint_parameters_and_the_wrapper_is_tagged() -> None:
    app = build_app()
    paths = app.openapi()["paths"]

    def names(path: str, method: str) -> List[str]:
        return [p["name"] for p in paths[path][method].get("parameters", [])]

    assert names("/forecast", "get") == ["team", "weeks"]
    assert names("/sso", "get") == ["q"]
    assert names("/members", "post") == ["email"]
    assert names("/webhooks", "get") == []
    assert names("/api", "get") == []
    routes = {getattr(r, "path", ""): r for r in app.routes}
    assert getattr(routes["/forecast"], "endpoint")._require_feature == "capacity_forecast"
    assert getattr(routes["/members"], "endpoint")._require_limit == "max_users"
    assert getattr(routes["/org"], "endpoint")._require_permission == "org:delete"


def test_the_dependency_sets_the_context_without_middleware() -> None:
    lic = licensing(instance_license_from_env=False)
    app = build_app(dependencies=[Depends(lic.dependency)])
    with TestClient(build_app()) as plain, TestClient(app) as c:
        assert c.get("/sso", headers=session("org_ent")).status_code == 200
        assert c.get("/sso", headers=session("org_com")).status_code == 402
        assert c.get("/whoami", headers=session("org_ent", exp=NOW - 3600)).status_code == 401
        assert plain.get("/sso", headers=session("org_ent")).status_code == 402


def test_the_instance_license_from_the_environment_applies_without_a_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = build_app()
    with TestClient(app) as c:
        assert c.get("/whoami").json() == {"tier": "community", "org_id": None}
        assert c.get("/sso").status_code == 402
        real_now = int(time.time())
        vendor = vendor_key()
        token = license_token(vendor, tier="enterprise", iat=real_now - DAY, exp=real_now + DAY)
        monkeypatch.setenv("DEV_HEALTH_LICENSE", token)
        monkeypatch.setenv("DEV_HEALTH_LICENSE_PUBLIC_KEYS", f"{KID}={vendor.public_key}")
        dfa.set_instance_licensing(None)
        assert c.get("/whoami").json() == {"tier": "enterprise", "org_id": None}
        assert c.get("/sso").status_code == 200
        assert c.get("/forecast?team=x").status_code == 200


def test_a_license_expiring_while_the_process_runs_is_expired_from_that_moment() -> None:
    clock = Clock(NOW)
    token = license_token(tier="team", exp=NOW + 100, grace_days=1)
    lic = licensing(clock, license_token=token)
    app = build_app()
    app.add_middleware(dfa.EntitlementsMiddleware, licensing=lic)
    with TestClient(app) as c:
        assert c.get("/forecast?team=a").status_code == 200
        clock.now = NOW + 100
        assert c.get("/forecast?team=a").status_code == 200
        clock.now = NOW + 101  # grace: still the licensed tier
        assert c.get("/forecast?team=a").status_code == 200
        assert c.get("/whoami").json()["tier"] == "team"
        clock.now = NOW + 100 + DAY + 1  # after grace
        response = c.get("/forecast?team=a")
        assert response.status_code == 402
        assert response.json()["detail"]["current_tier"] == "community"
        # An org without a license of its own falls back to the same instance license.
        assert c.get("/whoami", headers=session("org_com")).json()["tier"] == "community"


def test_an_org_license_is_verified_once_and_tier_changes_are_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    verified: List[str] = []
    real = dhe.Verifier(zero_key().keyring(KID))

    class CountingVerifier:
        def verify(self, token: str, now: Optional[int] = None) -> dhe.License:
            verified.append(token)
            return real.verify(token, now)

    orgs = {"org_x": dfa.OrgRecord(tier="community", license=license_token(sub="org_x", tier="enterprise", license_type="saas"))}
    lic = dfa.Licensing(
        session_verifier=dhe.SessionVerifier(zero_key().keyring(KID)),
        org_loader=lambda org_id: orgs.get(org_id),
        verifier=CountingVerifier(),  # type: ignore[arg-type]
        clock=Clock(),
        instance_license_from_env=False,
    )
    app = build_app()
    app.add_middleware(dfa.EntitlementsMiddleware, licensing=lic)
    with TestClient(app) as c:
        for _ in range(3):
            assert c.get("/sso", headers=session("org_x")).status_code == 200
        assert len(verified) == 1
        orgs["org_x"] = dfa.OrgRecord(tier="team")
        assert c.get("/whoami", headers=session("org_x")).json()["tier"] == "team"


def test_async_loaders_are_awaited() -> None:
    async def loader(org_id: str) -> dfa.OrgRecord:
        return dfa.OrgRecord(tier="team")

    lic = dfa.Licensing(org_loader=loader, clock=Clock(), instance_license_from_env=False)
    context = asyncio.run(lic.context_for_org("org_q"))
    assert context.entitlements.tier == "team" and context.org_id == "org_q"


def test_checks_outside_http_use_the_given_entitlements() -> None:
    ent = dhe.Entitlements.resolve(org_tier="team", now=NOW)
    with dfa.use_entitlements(ent, org_id="org_job"):
        assert dfa.current_entitlements() is ent
        assert dfa.require_feature("api_access", raise_http=False).check() is None
        with pytest.raises(dhe.FeatureNotLicensed) as err:
            dfa.require_feature("sso_saml", raise_http=False).check()
        assert err.value.status_code == 402 and err.value.feature == "sso_saml"
        with pytest.raises(dhe.PermissionDenied):
            dfa.require_permission("org:read", raise_http=False).check()
    assert dfa.current_context().org_id is None


def test_websockets_run_under_the_session_context_and_bad_sessions_are_closed() -> None:
    app = build_app()

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_json({"tier": dfa.current_entitlements().tier})
        await socket.close()

    app.add_middleware(
        dfa.EntitlementsMiddleware, licensing=licensing(instance_license_from_env=False)
    )
    with TestClient(app) as c:
        with c.websocket_connect("/ws", headers=session("org_ent")) as socket:
            assert socket.receive_json() == {"tier": "enterprise"}
        with pytest.raises(WebSocketDisconnect) as closed:
            with c.websocket_connect("/ws", headers=session("org_ent", exp=NOW - 3600)):
                pass
        assert closed.value.code == 1008


def test_stripe_webhooks_are_verified_from_the_raw_body() -> None:
    app = FastAPI()
    applied: List[Dict[str, Any]] = []

    @app.post("/api/v1/billing/webhooks/stripe")
    async def webhook(request: Request) -> Dict[str, str]:
        event = await dfa.stripe_event_from_request(
            request, ["whsec_old", "whsec_new"], clock=lambda: float(NOW)
        )
        org = {"org_id": "org_1", "tier": "community", "managed_by": "stripe"}
        applied.append(dhe.apply_stripe_event(event, org, {"price_tiers": {"price_t": "team"}}))
        return {"status": "ok"}

    body = json.dumps(
        {
            "id": "evt_1",
            "type": "customer.subscription.updated",
            "created": NOW,
            "data": {
                "object": {
                    "id": "sub_1",
                    "customer": "cus_1",
                    "status": "active",
                    "metadata": {"org_id": "org_1"},
                    "items": {"data": [{"price": {"id": "price_t"}}]},
                }
            },
        }
    ).encode()
    path = "/api/v1/billing/webhooks/stripe"
    with TestClient(app) as c:
        signed = {"Stripe-Signature": dhe.stripe_signature_header(body, "whsec_new", NOW)}
        assert c.post(path, content=body, headers=signed).json() == {"status": "ok"}
        assert applied[0]["state"]["tier"] == "team"
        stale = {"Stripe-Signature": dhe.stripe_signature_header(body, "whsec_new", NOW - 301)}
        forged = {"Stripe-Signature": dhe.stripe_signature_header(body, "whsec_x", NOW)}
        for headers in (stale, forged, {}):
            response = c.post(path, content=body, headers=headers)
            assert response.status_code == 400
            assert response.json() == {"detail": "Invalid Stripe signature"}
        big = b" " * (1024 * 1024 + 1)
        assert c.post(path, content=big, headers=signed).status_code == 413
    assert len(applied) == 1


def _fastapi_0_115_is_coroutine_callable(call: Any) -> bool:
    # FastAPI 0.100-0.122 (allowed by the package's fastapi>=0.100), dependencies/utils.py.
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call)
    if inspect.isclass(call):
        return False
    dunder_call = getattr(call, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(dunder_call)


@pytest.mark.parametrize(
    "requirement",
    [
        dfa.require_feature("sso_saml"),
        dfa.require_permission("org:write"),
        dfa.require_limit("max_users", lambda context: 99),
    ],
)
def test_dependencies_are_awaited_by_fastapi_before_it_unwrapped_them(requirement: Any) -> None:
    # Older FastAPI runs a dependency it does not take for a coroutine in a thread pool and uses
    # its return value as is: the check's coroutine was never awaited and every request passed.
    assert _fastapi_0_115_is_coroutine_callable(requirement)
    community = dhe.Entitlements.resolve(catalog=dhe.Catalog.default(), now=NOW)

    async def solve() -> Any:
        return await requirement()

    with dfa.use_entitlements(community):
        with pytest.raises(Exception) as denied:
            asyncio.run(solve())
    assert getattr(denied.value, "status_code", None) in (402, 403)


def test_an_unreadable_instance_license_file_runs_as_community_not_401(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # DEV_HEALTH_LICENSE_FILE naming a missing file: license_token_from_env raises license_not_found.
    # It was raised through the middleware as an invalid session: every request, with no session
    # and on routes with no check, was answered 401 invalid_session (and 500 without middleware).
    monkeypatch.setenv("DEV_HEALTH_LICENSE_FILE", str(tmp_path / "missing.lic"))
    app = build_app()

    @app.get("/open")
    def open_route() -> Dict[str, str]:
        return {"ok": "open"}

    app.add_middleware(dfa.EntitlementsMiddleware, licensing=licensing())
    with TestClient(app) as c:
        assert c.get("/open").status_code == 200
        assert c.get("/whoami").json() == {"tier": "community", "org_id": None}
        assert c.get("/sso").status_code == 402
        assert c.get("/sso", headers=session("org_ent")).status_code == 200
    bare = build_app()
    with TestClient(bare) as c:
        assert c.get("/whoami").json() == {"tier": "community", "org_id": None}
        assert c.get("/sso").json()["detail"]["error"] == "feature_not_licensed"


def test_a_required_tier_that_is_not_a_tier_is_refused_when_decorating() -> None:
    # It was read only on a denial: the route answered 500 to the first org below the tier.
    with pytest.raises(dhe.LicenseError) as refused:
        dfa.require_feature("sso_saml", required_tier="Enterprise")
    assert refused.value.code == "invalid_input"
    assert dfa.require_feature("sso_saml", required_tier="enterprise").required_tier == "enterprise"


class _Item(BaseModel):
    name: str


@pytest.mark.parametrize(
    "requirement",
    [
        dfa.require_feature("basic_analytics"),
        dfa.require_permission("org:read"),
        dfa.require_limit("max_users", lambda context: 1),
    ],
)
def test_the_wrapper_signature_has_the_endpoint_module_annotations_resolved(requirement: Any) -> None:
    # This module uses `from __future__ import annotations`: `item: _Item` is the string "_Item".
    # FastAPI before about 0.123 resolved it in the wrapper's __globals__ (the glue's module), did
    # not find it and took the body for a required query parameter: 422 on every request.
    def create(item: _Item, n: int = 1) -> Dict[str, str]:
        return {"name": item.name}

    wrapper = requirement(create)
    signature = inspect.signature(wrapper)
    assert signature.parameters["item"].annotation is _Item
    assert signature.parameters["n"].annotation is int and signature.parameters["n"].default == 1
    app = FastAPI()
    app.post("/items")(wrapper)
    assert "requestBody" in app.openapi()["paths"]["/items"]["post"]


def test_denials_survive_pickle_and_copy() -> None:
    import copy
    import pickle

    community = dhe.Entitlements.resolve(catalog=dhe.Catalog.default(), now=NOW)
    with dfa.use_entitlements(community):
        with pytest.raises(dhe.FeatureNotLicensed) as denied:
            dfa.require_feature("sso_saml", raise_http=False).check()
    for again in (pickle.loads(pickle.dumps(denied.value)), copy.copy(denied.value)):
        assert type(again) is dhe.FeatureNotLicensed
        assert again.detail == denied.value.detail and again.status_code == 402
        assert (again.code, again.message) == (denied.value.code, denied.value.message)


def test_org_record_overrides_may_be_any_mapping() -> None:
    # OrgRecord.overrides is typed Sequence[Mapping]; a non-dict Mapping (a database row's
    # mapping, a MappingProxyType) was TypeError "cannot convert mappingproxy to JSON": 500.
    import types

    lic = licensing(instance_license_from_env=False)
    record = dfa.OrgRecord(
        tier="team",
        overrides=[types.MappingProxyType({"feature": "api_access", "enabled": False})],
    )
    ent = lic.resolve_org("org_x", record, now=NOW)
    assert ent.tier == "team" and not ent.has("api_access") and ent.has("webhooks")
