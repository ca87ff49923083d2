"""The Wycheproof Ed25519 suite (tests/vectors/wycheproof_ed25519.json) through the binding's
verifier: each case is a v1 token (SPEC §1.2: base64 of the message, a dot, base64 of the signature
over the message bytes) under a keyring of the case's key. A valid signature passes the signature
check and fails only as a license (invalid_claims: the message is no claim set); an invalid one is
invalid_signature (or its key is refused)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Dict, List, Optional

import dev_health_entitlements as dhe

SUITE = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "wycheproof_ed25519.json"


def test_every_wycheproof_ed25519_case_gets_its_expected_answer() -> None:
    suite = json.loads(SUITE.read_text())
    wrong: List[str] = []
    counts: Dict[str, int] = {"valid": 0, "invalid": 0}
    for group in suite["testGroups"]:
        x = base64.urlsafe_b64encode(bytes.fromhex(group["publicKey"]["pk"])).decode().rstrip("=")
        jwks = json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "w", "x": x}]})
        verifier: Optional[dhe.Verifier] = None
        key_error: Optional[str] = None
        try:
            verifier = dhe.Verifier(dhe.Keyring.from_jwks(jwks))
        except dhe.LicenseError as e:
            key_error = e.code
        for t in group["tests"]:
            counts[t["result"]] += 1
            token = (
                base64.b64encode(bytes.fromhex(t["msg"])).decode()
                + "."
                + base64.b64encode(bytes.fromhex(t["sig"])).decode()
            )
            answer = f"key refused ({key_error})"
            if verifier is not None:
                try:
                    verifier.verify(token, now=1800000000)
                    answer = "verified"
                except dhe.LicenseError as e:
                    answer = e.code
            expected = "invalid_claims" if t["result"] == "valid" else "invalid_signature"
            if answer != expected and not (t["result"] == "invalid" and key_error is not None):
                wrong.append(f"tcId {t['tcId']} ({t['comment']}): {t['result']}, expected {expected}, got {answer}")
    assert wrong == []
    assert counts == {"valid": 88, "invalid": 63}
