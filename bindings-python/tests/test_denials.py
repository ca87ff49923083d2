"""The HTTP answers of denied checks come from the engine (core ``web``): the bodies the FastAPI
dependencies send are the ones the Next.js wrappers send."""

from dev_health_entitlements import Entitlements
from dev_health_entitlements._native import permission_denial


def test_feature_denial_is_none_when_allowed_and_402_or_403_otherwise() -> None:
    team = Entitlements.resolve(org_tier="team")
    assert team.feature_denial("capacity_forecast") is None
    assert team.feature_denial("audit_log", None, "/billing") == {
        "error": "feature_not_licensed",
        "status": 402,
        "detail": {
            "error": "feature_not_licensed",
            "feature": "audit_log",
            "required_tier": "enterprise",
            "current_tier": "team",
            "upgrade_url": "/billing",
        },
        "message": "The feature 'audit_log' is not included in the team tier.",
    }
    off = Entitlements.resolve(org_tier="enterprise", kill_switches={"audit_log": False})
    answer = off.feature_denial("audit_log")
    assert answer is not None
    assert (answer["status"], answer["detail"]["error"]) == (403, "feature_not_enabled")


def test_limit_and_permission_denials() -> None:
    community = Entitlements.resolve()
    assert community.limit_denial("max_users", 3) is None
    answer = community.limit_denial("max_users", 4)
    assert answer is not None
    assert answer["detail"] == {
        "error": "limit_exceeded",
        "limit": "max_users",
        "current": 4,
        "maximum": 3,
        "current_tier": "community",
    }
    assert permission_denial("org:delete", "viewer")["detail"] == {
        "error": "permission_denied",
        "permission": "org:delete",
        "role": "viewer",
    }
