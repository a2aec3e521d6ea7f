"""Validates JSON or YAML documents against a JSON Schema (the draft its
`$schema` names; draft 2020-12 when it names none).

Usage: python3 tests/tools/jsonschema_check.py SCHEMA FILE...

Prints one line per document ("ok FILE" or "FAIL FILE: error") and exits 1 if
any document fails, 2 if the schema itself is not a valid schema. Used by
tests/consumers.rs for pure.json and the Portworx StorageCluster, and by
tests/diagnostics.rs for SARIF logs (schemas/sarif-2.1.0.schema.json, draft-04).
"""
import json
import sys

import jsonschema
import yaml


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        return json.loads(text)
    return yaml.safe_load(text)


def main(argv):
    schema = load(argv[1])
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"invalid schema {argv[1]}: {e.message}")
        return 2
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    failed = 0
    for path in argv[2:]:
        errors = sorted(validator.iter_errors(load(path)), key=lambda e: list(e.path))
        if errors:
            failed += 1
            for e in errors:
                where = "/".join(str(p) for p in e.path) or "(root)"
                print(f"FAIL {path}: {where}: {e.message}")
        else:
            print(f"ok {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
