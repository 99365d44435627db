#!/usr/bin/env python3
"""A JSON Schema validator for the subset of draft 2020-12 that docs/results.schema.json uses (python3-jsonschema
need not be installed). A keyword outside the subset is an error, so the schema cannot lean on something this
validator would silently ignore.

  t80-jsonschema.py SCHEMA INSTANCE   prints each violation with its JSON path; exit status 1 if there are any
"""
import json
import re
import sys

ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
KEYWORDS = {"type", "enum", "const", "minimum", "pattern", "required", "properties", "additionalProperties", "items",
            "minItems", "minProperties", "$ref"}


def type_ok(value, name):
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise ValueError("unknown type " + name)


def resolve(root, ref):
    if not ref.startswith("#/"):
        raise ValueError("only local $ref supported: " + ref)
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def validate(root, schema, value, path, errors):
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise ValueError("%s: schema keywords outside the supported subset: %s" % (path, sorted(unknown)))
    if "$ref" in schema:
        validate(root, resolve(root, schema["$ref"]), value, path, errors)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(value, t) for t in types):
            errors.append("%s: %r is not of type %s" % (path, value, types))
            return
    if "const" in schema and value != schema["const"]:
        errors.append("%s: %r is not %r" % (path, value, schema["const"]))
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r not in %r" % (path, value, schema["enum"]))
    if "minimum" in schema and type_ok(value, "number") and value < schema["minimum"]:
        errors.append("%s: %r < minimum %r" % (path, value, schema["minimum"]))
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append("%s: %r does not match %r" % (path, value, schema["pattern"]))
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append("%s: required property %r missing" % (path, key))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            errors.append("%s: fewer than %d properties" % (path, schema["minProperties"]))
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                validate(root, props[key], item, path + "/" + key, errors)
            elif "additionalProperties" in schema:
                extra = schema["additionalProperties"]
                if extra is False:
                    errors.append("%s: property %r not allowed" % (path, key))
                elif isinstance(extra, dict):
                    validate(root, extra, item, path + "/" + key, errors)
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append("%s: fewer than %d items" % (path, schema["minItems"]))
        if "items" in schema:
            for i, item in enumerate(value):
                validate(root, schema["items"], item, "%s/%d" % (path, i), errors)


def check(schema, instance):
    errors = []
    validate(schema, schema, instance, "", errors)
    return errors


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    with open(sys.argv[2]) as f:
        instance = json.load(f)
    errs = check(schema, instance)
    for e in errs:
        print(e)
    sys.exit(1 if errs else 0)
