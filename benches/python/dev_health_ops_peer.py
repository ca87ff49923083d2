"""dev-health-ops' license validator and signer, reimplemented for comparison (not imported:
dev-health-ops is an application, not a package on an index).

The steps are those of ``dev_health_ops.licensing.validator.LicenseValidator.validate`` and
``generator.sign_payload`` at full-chaos/dev-health-ops f4839e3: split on ``.``, standard base64
decode of both parts, PyNaCl ``VerifyKey.verify``, ``json.loads``, pydantic ``model_validate`` of
the payload model (``iss`` literal, tier enum, ``features`` dict, ``limits`` model, ``grace_days
>= 0``, optional ``license_id``), then the expiry check with grace days; signing dumps the model
with ``model_dump_json`` and signs it with PyNaCl. The benchmark (``compat_bench.py``) and the
compatibility tests use it as the peer.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from enum import Enum
from typing import Dict, Literal, Optional

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from pydantic import BaseModel, Field, ValidationError


class Tier(str, Enum):
    COMMUNITY = "community"
    TEAM = "team"
    ENTERPRISE = "enterprise"


class Limits(BaseModel):
    users: int
    repos: int
    api_rate: int
    backfill_days: Optional[int] = None


class Payload(BaseModel):
    iss: Literal["fullchaos.studio"]
    sub: str
    iat: int
    exp: int
    tier: Tier
    features: Dict[str, bool]
    limits: Limits
    grace_days: int = Field(ge=0)
    org_name: Optional[str] = None
    contact_email: Optional[str] = None
    license_id: Optional[str] = None


@dataclass
class Result:
    valid: bool
    payload: Optional[Payload] = None
    error: Optional[str] = None
    in_grace_period: bool = False


class PeerValidator:
    def __init__(self, public_key_base64: str) -> None:
        self._verify_key = VerifyKey(base64.b64decode(public_key_base64))

    def validate(self, license_str: str, *, current_time: int) -> Result:
        parts = license_str.strip().split(".")
        if len(parts) != 2:
            return Result(False, error="Invalid license format: expected <payload>.<signature>")
        try:
            payload_bytes = base64.b64decode(parts[0])
            signature = base64.b64decode(parts[1])
        except Exception:  # noqa: BLE001 - as the original
            return Result(False, error="Invalid base64 encoding")
        try:
            self._verify_key.verify(payload_bytes, signature)
        except BadSignatureError:
            return Result(False, error="Invalid signature")
        try:
            payload = Payload.model_validate(json.loads(payload_bytes.decode("utf-8")))
        except json.JSONDecodeError:
            return Result(False, error="Invalid JSON in payload")
        except ValidationError as e:
            return Result(False, error=f"Invalid payload schema: {e}")
        if current_time <= payload.exp:
            return Result(True, payload)
        if current_time <= payload.exp + payload.grace_days * 86400:
            return Result(True, payload, in_grace_period=True)
        return Result(False, payload, error="License expired (past grace period)")


def sign_payload(private_key_base64: str, payload: Payload) -> str:
    key = SigningKey(base64.b64decode(private_key_base64))
    body = payload.model_dump_json().encode("utf-8")
    signature = key.sign(body).signature
    return f"{base64.b64encode(body).decode()}.{base64.b64encode(signature).decode()}"
