"""Checks the portable builds in dist/ against the platforms their names promise.

* Each manylinux wheel: ``auditwheel show`` must find it consistent with the platform tag in its
  file name (manylinux_2_17 = manylinux2014) for its architecture.
* Each musllinux wheel and each Node addon (dist/node/build/<target>/*.node): a glibc build may
  need no glibc symbol newer than 2.17; a musl build no glibc symbol and only the C library
  (zig links musl's as ``libc.so``, which musl's loader resolves to itself). auditwheel cannot
  judge a musl wheel on a glibc host (it looks for musl's libc and reads glibc's linker script).

    python3 check_dist.py DIST_DIR      (auditwheel and readelf on PATH)
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def glibc_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def main() -> int:
    dist = Path(sys.argv[1])
    problems = []
    wheels = sorted((dist / "python").glob("*.whl"))
    for wheel in [w for w in wheels if "manylinux" in w.name]:
        report = " ".join(run("auditwheel", "show", str(wheel)).split())
        found = re.search(r'consistent with the following platform tag: "([^"]+)"', report)
        claimed = [t for t in wheel.stem.split("-")[-1].split(".") if "_2_17_" in t or "musllinux_1_2" in t]
        status = found.group(1) if found else "no platform tag"
        ok = found is not None and found.group(1) in claimed
        print(f"{wheel.name}: auditwheel: {status} ({wheel.stat().st_size} bytes)")
        if not ok:
            problems.append(f"{wheel.name}: auditwheel says {status}, the name says {claimed}")
    addons = sorted((dist / "node" / "build").glob("*/*.node"))
    unpacked = dist / "check"
    for wheel in [w for w in wheels if "musllinux" in w.name]:
        target = wheel.name.split("musllinux_1_2_")[1].split(".")[0] + "-unknown-linux-musl"
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.endswith(".so"):
                    z.extract(name, unpacked / target)
                    addons.append(unpacked / target / name)
        print(f"{wheel.name}: {wheel.stat().st_size} bytes")
    for addon in addons:
        target = next(p for p in addon.parents if p.name.endswith(("-gnu", "-musl"))).name
        needed = re.findall(r"Shared library: \[([^\]]+)\]", run("readelf", "-d", str(addon)))
        versions = sorted(set(re.findall(r"GLIBC_([0-9.]+)", run("readelf", "-V", str(addon)))), key=glibc_key)
        newest = versions[-1] if versions else "none"
        print(f"{target}/{addon.name}: needs {', '.join(needed)}; newest glibc symbol {newest} ({addon.stat().st_size} bytes)")
        if target.endswith("-gnu") and versions and glibc_key(newest) > (2, 17):
            problems.append(f"{addon}: needs glibc {newest} > 2.17")
        if target.endswith("-musl") and (versions or set(needed) - {"libc.so"} - {n for n in needed if "musl" in n}):
            problems.append(f"{addon}: a musl build that needs more than the C library ({needed})")
    if not wheels and not addons:
        problems.append(f"nothing to check in {dist}")
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
