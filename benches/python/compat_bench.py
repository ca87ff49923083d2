"""dev-health-ops' ``LicenseValidator.validate`` (PyNaCl + pydantic) against the compatibility
validator (``dev_health_entitlements.compat.dev_health_ops``) on the same license, in one process.

The peer is a faithful reimplementation of dev-health-ops' validator steps (``dev_health_ops_peer``,
next to this file): dev-health-ops itself is an application, not an installable package. Goal: the
compat path at least 1.5x faster. Run with ``make bench-python-compat`` (a release build).
"""

from __future__ import annotations

import sys

import dev_health_ops_peer as peer
from bench import interleaved

from dev_health_entitlements.compat.dev_health_ops import (
    TEST_KEYPAIR,
    LicenseValidator,
    get_features_for_tier,
    sign_license,
)

GOAL = 1.5
NOW = 1_800_000_000


def main() -> None:
    token = sign_license(
        TEST_KEYPAIR.private_key,
        org_id="org_acme",
        tier="enterprise",
        features=get_features_for_tier("enterprise"),  # type: ignore[arg-type]
        org_name="Acme Inc",
        license_id="lic_bench",
        issued_at=NOW - 86400,
    )
    ours = LicenseValidator(TEST_KEYPAIR.public_key)
    theirs = peer.PeerValidator(TEST_KEYPAIR.public_key)
    a, b = ours.validate(token, current_time=NOW), theirs.validate(token, current_time=NOW)
    assert a.valid and b.valid and a.payload is not None and b.payload is not None
    assert a.payload.features == b.payload.features and a.payload.sub == b.payload.sub
    times = interleaved(
        {
            "dev-health-ops (PyNaCl + pydantic)": lambda: theirs.validate(token, current_time=NOW),
            "compat (engine)": lambda: ours.validate(token, current_time=NOW),
        },
        number=200,
        rounds=30,
    )
    peer_us = times["dev-health-ops (PyNaCl + pydantic)"] * 1e6
    ours_us = times["compat (engine)"] * 1e6
    ratio = peer_us / ours_us
    print(f"token: {len(token)} bytes, {len(a.payload.features)} features")
    print(f"dev-health-ops LicenseValidator.validate (reimplemented): {peer_us:8.2f} us")
    print(f"compat LicenseValidator.validate:                         {ours_us:8.2f} us")
    print(f"compat is {ratio:.2f}x faster (goal >= {GOAL}x)")
    if ratio < GOAL:
        print("GOAL MISSED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
