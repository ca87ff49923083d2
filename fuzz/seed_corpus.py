#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from the conformance
vectors (tests/vectors/*.json) and the shipped catalogs: real tokens, signed deliveries, events,
catalogs and entitlements JSON, each also in the target's `#sign` form so that mutations reach the
checks behind the signatures. The server's seeds are hand-written requests (corpus/server/).

Run from the repository root: python3 fuzz/seed_corpus.py. Files are named by the SHA-1 of their
content, as libFuzzer names what it adds, so a re-run adds nothing twice.
"""

import base64
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
CORPUS = ROOT / "fuzz" / "corpus"


def cases(name):
    return json.loads((VECTORS / name).read_text())["cases"]


def write(target, content):
    data = content.encode() if isinstance(content, str) else content
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def b64url_json(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def tokens():
    for case in cases("verify.json"):
        token = case["token"]
        write("token", token)
        parts = token.split(".")
        try:
            if len(parts) == 3:
                header = json.loads(b64url_json(parts[0]))
                kid = header.get("kid", "test-zero") if isinstance(header, dict) else "test-zero"
                write("token", f"#sign v2 {kid}\n{b64url_json(parts[1])}")
            elif len(parts) == 2:
                write("token", "#sign v1\n" + base64.b64decode(parts[0]).decode())
        except (ValueError, UnicodeDecodeError):
            pass  # the malformed cases: kept raw only
        revocations = case["options"].get("revocation_list")
        if revocations:
            write("token", revocations)
            write("token", "#sign revocations\n" + b64url_json(revocations.split(".")[1]))


def sessions():
    for case in cases("sessions.json"):
        token = case["token"]
        write("session", token)
        parts = token.split(".")
        if len(parts) == 3:
            try:
                claims = b64url_json(parts[1])
            except (ValueError, UnicodeDecodeError):
                continue
            write("session", "#sign eddsa\n" + claims)
            write("session", "#sign hs256\n" + claims)


def stripe():
    for case in cases("stripe_signatures.json"):
        write("stripe", case["header"] + "\n" + case["payload"])
    for case in cases("stripe_events.json"):
        for event in case["events"]:
            write("stripe", "#sign\n" + compact(event))


def catalogs():
    for path in sorted((ROOT / "core" / "catalogs").glob("*.json")):
        text = path.read_text()
        write("catalog", text)
        write("catalog", compact(json.loads(text)))


def entitlements():
    for case in cases("entitlements.json"):
        document = case["expect"]["json"]
        write("entitlements_json", compact(document))
        # What an older server wrote: no `reasons`.
        write("entitlements_json", compact({k: v for k, v in document.items() if k != "reasons"}))


if __name__ == "__main__":
    tokens()
    sessions()
    stripe()
    catalogs()
    entitlements()
