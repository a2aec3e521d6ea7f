"""Reads a YAML stream with PyYAML (a YAML 1.1 reader that shares no code with
tenantc's printer) and compares each document with the JSON value it was
printed from. Prints the first difference and exits 1; exits 0 when all agree.

usage: yaml11_compare.py STREAM.yaml EXPECTED.json
"""
import json
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    docs = list(yaml.safe_load_all(f))
with open(sys.argv[2], encoding="utf-8") as f:
    want = json.load(f)
if len(docs) != len(want):
    print(f"{len(docs)} documents read, {len(want)} printed")
    sys.exit(1)
for i, (got, exp) in enumerate(zip(docs, want)):
    if got != exp:
        print(f"document {i}: read back {got!r}, printed from {exp!r}")
        sys.exit(1)
print(f"{len(docs)} documents agree")
