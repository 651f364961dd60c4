"""Validates docker-compose.yml against the Compose specification's JSON schema (no Docker engine here)."""
import json
import sys

import jsonschema
import yaml


def main() -> int:
    compose_path, schema_path = sys.argv[1], sys.argv[2]
    with open(compose_path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    validator_class = jsonschema.Draft7Validator
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    for error in errors:
        location = "/".join(str(part) for part in error.path) or "(root)"
        print(f"{compose_path}: {location}: {error.message}")
    services = document.get("services", {})
    for required in ("postgres", "migrate", "serve", "worker"):
        if required not in services:
            print(f"{compose_path}: services: missing {required}")
            errors.append(required)
    if errors:
        return 1
    print(f"{compose_path}: valid against the Compose specification ({len(services)} services)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
