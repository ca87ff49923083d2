"""The OpenFeature provider through the official ``openfeature-sdk``: features, limits and the
tier as flags, OpenFeature's reasons and error codes with the engine's reason in the metadata,
hooks, and a provider swapped at run time."""

from __future__ import annotations

import datetime
import math
from typing import Any, Iterator, List, Tuple

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagEvaluationDetails, Reason
from openfeature.hook import Hook, HookContext, HookHints

import dev_health_entitlements as dhe
from dev_health_entitlements.openfeature import EntitlementsProvider

from helpers import KID, vendor_key, license_token, now


@pytest.fixture(autouse=True)
def fresh_api() -> Iterator[None]:
    yield
    api.clear_hooks()
    api.shutdown()
    api.clear_providers()


TEAM = EvaluationContext("org_acme", {"tier": "team"})


def test_boolean_flags_are_features_with_the_engine_reason_in_metadata() -> None:
    api.set_provider(EntitlementsProvider())
    client = api.get_client()
    on = client.get_boolean_details("capacity_forecast", False, TEAM)
    assert (on.value, on.reason, on.flag_metadata) == (
        True,
        Reason.STATIC,
        {"engine_reason": "enabled_by_tier"},
    )
    off = client.get_boolean_details("audit_log", True, TEAM)
    assert (off.value, off.reason, off.flag_metadata["engine_reason"]) == (
        False,
        Reason.STATIC,
        "tier_required",
    )
    granted = client.get_boolean_details(
        "audit_log",
        False,
        EvaluationContext(
            "org_acme",
            {
                "tier": "team",
                "overrides": [
                    {"feature": "audit_log", "enabled": True, "expires_at": now() + 3600}
                ],
            },
        ),
    )
    assert (granted.value, granted.reason) == (True, Reason.TARGETING_MATCH)
    killed = client.get_boolean_details(
        "capacity_forecast",
        True,
        EvaluationContext("org_acme", {"tier": "team", "kill_switches": {"capacity_forecast": False}}),
    )
    assert (killed.value, killed.reason, killed.flag_metadata["engine_reason"]) == (
        False,
        Reason.DISABLED,
        "global_disabled",
    )


def test_limits_are_number_flags_and_tier_a_string_flag() -> None:
    api.set_provider(EntitlementsProvider(kill_switches={"api_access": False}))
    client = api.get_client()
    community = EvaluationContext("org_acme")
    assert client.get_integer_value("max_users", 0, community) == 3
    assert client.get_float_value("max_users", 0.0, community) == 3.0
    assert math.isinf(client.get_float_value("max_users", 0.0, TEAM))
    unlimited = client.get_integer_details("max_users", 0, TEAM)
    assert (unlimited.value, unlimited.error_code) == (0, ErrorCode.TYPE_MISMATCH)
    assert client.get_string_value("tier", "community", TEAM) == "team"
    # The host's kill switch holds whatever the context says.
    ctx = EvaluationContext("org_acme", {"tier": "team", "kill_switches": {"api_access": True}})
    assert client.get_boolean_value("api_access", True, ctx) is False


def test_errors_answer_the_default_with_openfeature_codes() -> None:
    api.set_provider(EntitlementsProvider())
    client = api.get_client()
    missing = client.get_boolean_details("no_such_flag", True, TEAM)
    assert (missing.value, missing.reason, missing.error_code, missing.flag_metadata) == (
        True,
        Reason.ERROR,
        ErrorCode.FLAG_NOT_FOUND,
        {"engine_reason": "feature_not_registered"},
    )
    assert client.get_float_details("audit_log", 7.0, TEAM).error_code == ErrorCode.TYPE_MISMATCH
    assert client.get_object_details("tier", {"a": 1}, TEAM).error_code == ErrorCode.TYPE_MISMATCH
    bad_tier = client.get_boolean_details("audit_log", True, EvaluationContext("o", {"tier": "gold"}))
    assert (bad_tier.value, bad_tier.error_code) == (True, ErrorCode.PARSE_ERROR)
    assert "gold" in (bad_tier.error_message or "")
    not_json = client.get_boolean_details(
        "audit_log", False, EvaluationContext("o", {"since": datetime.datetime(2026, 1, 1)})
    )
    assert not_json.error_code == ErrorCode.PARSE_ERROR
    conflict = client.get_boolean_details(
        "audit_log", False, EvaluationContext("org_acme", {"org_id": "org_other"})
    )
    assert conflict.error_code == ErrorCode.INVALID_CONTEXT


class Recorder(Hook):
    def __init__(self) -> None:
        self.seen: List[Tuple[Any, ...]] = []

    def before(self, hook_context: HookContext, hints: HookHints) -> EvaluationContext:
        self.seen.append(("before", hook_context.flag_key))
        # A hook may supply what the host knows about the org.
        return EvaluationContext(attributes={"tier": "enterprise"})

    def after(
        self, hook_context: HookContext, details: FlagEvaluationDetails[Any], hints: HookHints
    ) -> None:
        self.seen.append(("after", details.value, details.flag_metadata.get("engine_reason")))

    def error(self, hook_context: HookContext, exception: Exception, hints: HookHints) -> None:
        self.seen.append(("error", type(exception).__name__))

    def finally_after(
        self, hook_context: HookContext, details: FlagEvaluationDetails[Any], hints: HookHints
    ) -> None:
        self.seen.append(("finally",))


def test_provider_hooks_run_around_evaluations() -> None:
    recorder = Recorder()
    api.set_provider(EntitlementsProvider(hooks=[recorder]))
    client = api.get_client()
    assert client.get_boolean_value("audit_log", False, EvaluationContext("org_acme")) is True
    assert recorder.seen == [
        ("before", "audit_log"),
        ("after", True, "enabled_by_tier"),
        ("finally",),
    ]
    recorder.seen.clear()
    assert client.get_boolean_value("no_such_flag", False, EvaluationContext("org_acme")) is False
    assert [s[0] for s in recorder.seen] == ["before", "error", "finally"]
    assert recorder.seen[1] == ("error", "FlagNotFoundError")


def test_a_provider_swapped_at_run_time_takes_effect() -> None:
    key = vendor_key()
    verifier = dhe.Verifier(dhe.Keyring({KID: key.public_key}))
    t = now()
    enterprise = verifier.verify(
        license_token(key, tier="enterprise", license_type="self_hosted", iat=t - 60, exp=t + 86400),
        now=t,
    )
    api.set_provider(EntitlementsProvider())
    client = api.get_client()
    ctx = EvaluationContext("org_acme")
    assert client.get_boolean_value("sso_saml", False, ctx) is False
    api.set_provider(EntitlementsProvider(license=enterprise))
    assert client.get_boolean_value("sso_saml", False, ctx) is True
    tier = client.get_string_details("tier", "community", ctx)
    assert (tier.value, tier.reason, tier.flag_metadata["engine_reason"]) == (
        "enterprise",
        Reason.TARGETING_MATCH,
        "license_tier",
    )
    assert client.provider.get_metadata().name == "dev-health-entitlements"
