"""The FastAPI example of docs/python.md works as written: its code block is run and served here,
and the denial bodies the page shows are the ones it answers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dev_health_entitlements import fastapi as dfa
from helpers import DAY, KID, NOW, ZERO_PUBLIC, zero_key

README = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def fastapi_section() -> str:
    return README.read_text().split("\n## FastAPI\n", 1)[1]


def example_source() -> str:
    match = re.search(r"```python\n(.*?)```", fastapi_section(), re.S)
    assert match is not None, "the FastAPI section of docs/python.md has no python block"
    return match.group(1)


def documented_denials() -> Dict[str, Any]:
    """The denial bodies the page shows (`STATUS {json}` lines), by error."""
    match = re.search(r"```json\n(.*?)```", fastapi_section(), re.S)
    assert match is not None, "the FastAPI section of docs/python.md shows no denial bodies"
    shown: Dict[str, Any] = {}
    for line in match.group(1).strip().splitlines():
        status, body = line.split(" ", 1)
        parsed = json.loads(body)
        shown[parsed["detail"]["error"]] = (int(status), parsed)
    return shown


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("SESSION_PUBLIC_KEYS", f"{KID}={ZERO_PUBLIC}")
    namespace: Dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(example_source(), str(README), "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, FastAPI)
    licensing = namespace["licensing"]
    assert isinstance(licensing, dfa.Licensing)
    licensing.clock = lambda: float(NOW)
    with TestClient(app) as c:
        yield c


def auth(org_id: str, role: str = "admin") -> Dict[str, str]:
    claims = {"sub": "u", "email": "u@x.y", "org_id": org_id, "role": role, "exp": NOW + DAY}
    return {"Authorization": "Bearer " + zero_key().sign_jwt(claims, KID)}


def test_the_readme_example_serves_and_denies_as_documented(client: TestClient) -> None:
    assert client.get("/reports/forecast?team=a", headers=auth("org_acme")).json() == {
        "team": "a",
        "weeks": 4,
    }
    assert client.get("/reports/forecast?team=a", headers=auth("org_free")).json() == {
        "detail": {
            "error": "feature_not_licensed",
            "feature": "capacity_forecast",
            "required_tier": "team",
            "current_tier": "community",
            "upgrade_url": "/org/admin/settings",
        }
    }
    assert client.post("/members?email=a@b.c", headers=auth("org_acme")).status_code == 200
    limit = client.post("/members?email=a@b.c", headers=auth("org_free"))
    assert limit.status_code == 402 and limit.json()["detail"]["maximum"] == 3
    viewer = client.post("/members?email=a@b.c", headers=auth("org_acme", role="viewer"))
    assert viewer.status_code == 403
    assert viewer.json() == {
        "detail": {"error": "permission_denied", "permission": "members:invite", "role": "viewer"}
    }
    switched_off = client.get("/webhooks", headers=auth("org_free"))
    assert switched_off.status_code == 403
    assert switched_off.json()["detail"]["error"] == "feature_not_enabled"
    assert client.get("/webhooks", headers=auth("org_acme")).status_code == 200


def test_the_denial_bodies_the_page_shows_are_the_ones_the_example_answers(client: TestClient) -> None:
    answers = {
        "feature_not_licensed": client.get("/reports/forecast?team=a", headers=auth("org_free")),
        "feature_not_enabled": client.get("/webhooks", headers=auth("org_free")),
        "limit_exceeded": client.post("/members?email=a@b.c", headers=auth("org_free")),
        "permission_denied": client.post(
            "/members?email=a@b.c", headers=auth("org_acme", role="viewer")
        ),
    }
    shown = documented_denials()
    assert set(shown) == set(answers)
    for error, response in answers.items():
        assert (response.status_code, response.json()) == shown[error], error
