import os

from fastapi import FastAPI

import dev_health_entitlements as dhe
from dev_health_entitlements.fastapi import EntitlementsMiddleware, Licensing, OrgRecord, require_feature

# What your app already stores per org: its billing tier (and overrides, kill switches, license).
ORGS = {"acme": OrgRecord(tier="team"), "hobby": OrgRecord(tier="community")}

licensing = Licensing(
    session_verifier=dhe.SessionVerifier(dhe.Keyring.parse(os.environ["SESSION_PUBLIC_KEYS"])),
    org_loader=ORGS.get,
)
app = FastAPI()
app.add_middleware(EntitlementsMiddleware, licensing=licensing)


@app.get("/reports/forecast")
@require_feature("capacity_forecast")
async def forecast(weeks: int = 4) -> dict:
    return {"weeks": weeks, "forecast": "on track"}
