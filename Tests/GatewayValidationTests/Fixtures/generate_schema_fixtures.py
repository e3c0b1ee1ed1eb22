#!/usr/bin/env python3
"""Golden fixtures for GatewayValidation's JSONSchema, recorded from the real FastAPI.

For each JSON Schema below, builds the pydantic type the gateway treats as its equivalent
(`to_annotation`, the mapping documented in Sources/GatewayValidation/JSONSchema.swift), mounts
it in a FastAPI app as a body (`Body()`), and, for parameter schemas, as a query parameter
(`Query()`) and a path parameter (`Path()`), sends every input through the app as ASGI and
records the status and the exact response body.

    python3 generate_schema_fixtures.py      # rewrites schema_fixtures.json next to this file

Needs pydantic 2 with FastAPI, and `email-validator` (pip install email-validator) for EmailStr.
"""
import asyncio
import json
import os
import sys
from datetime import date, datetime
from typing import Annotated, Any, Literal, Optional
from urllib.parse import quote
from uuid import UUID

import email_validator
import fastapi
import pydantic
from fastapi import Body, FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, EmailStr, Field

# --- the mapping ------------------------------------------------------------

BOUNDS = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt", "multipleOf": "multiple_of"}
FORMATS = {"uuid": UUID, "date-time": datetime, "date": date, "email": EmailStr}
counter = [0]


def constrained(base, schema, keys):
    kw = {keys[k]: schema[k] for k in keys if k in schema}
    return Annotated[base, Field(**kw)] if kw else base


def to_annotation(schema):
    if "enum" in schema or "const" in schema:
        values = schema["enum"] if "enum" in schema else [schema["const"]]
        return Literal[tuple(values)]
    t = schema.get("type")
    nullable = False
    if isinstance(t, list):
        nullable = "null" in t
        rest = [x for x in t if x != "null"]
        t = rest[0] if rest else "null"
    if t is None:
        base = Any
    elif t == "null":
        base = None
    elif t == "string":
        if "format" in schema:
            base = FORMATS[schema["format"]]
        else:
            base = constrained(str, schema, {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"})
    elif t == "integer":
        base = constrained(int, schema, BOUNDS)
    elif t == "number":
        base = constrained(float, schema, BOUNDS)
    elif t == "boolean":
        base = bool
    elif t == "object":
        base = object_annotation(schema)
    elif t == "array":
        item = to_annotation(schema["items"]) if "items" in schema else Any
        base = constrained(list[item], schema, {"minItems": "min_length", "maxItems": "max_length"})
    else:
        raise ValueError(t)
    return Optional[base] if nullable else base


def object_annotation(schema):
    extra = schema.get("additionalProperties", True)
    if "properties" not in schema and extra is not False:
        return dict[str, to_annotation(extra) if isinstance(extra, dict) else Any]
    required = set(schema.get("required", []))
    annotations, namespace = {}, {}
    for i, (name, sub) in enumerate(schema.get("properties", {}).items()):
        field = f"f{i}"
        annotations[field] = to_annotation(sub)
        if name in required:
            namespace[field] = Field(alias=name)
        else:
            namespace[field] = Field(default=sub.get("default"), alias=name)
    if isinstance(extra, dict):
        annotations["__pydantic_extra__"] = dict[str, to_annotation(extra)]
    namespace["__annotations__"] = annotations
    mode = "forbid" if extra is False else ("allow" if isinstance(extra, dict) else "ignore")
    namespace["model_config"] = ConfigDict(extra=mode)
    counter[0] += 1
    return type(f"Model{counter[0]}", (BaseModel,), namespace)


# --- the cases --------------------------------------------------------------

S = []  # (name, schema, bodies, parameter values or None)


def schema_case(name, schema, bodies, params=None):
    S.append((name, schema, bodies, params))


ITEM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 10},
        "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        "qty": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3},
        "status": {"enum": ["active", "inactive"]},
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "note": {"type": ["string", "null"]},
    },
    "required": ["name", "price"],
    "additionalProperties": False,
}
schema_case("item", ITEM, [
    '{"name":"Foo","price":10}',
    '{"name":"Foo","price":10.5,"qty":3,"tags":["a","b"],"status":"active","sku":"ABC-1234","note":null}',
    '{"name":"Foo","price":"10","qty":"3"}',
    '{"name":"Foo","price":true}',
    '{}',
    '{"price":1}',
    '{"name":"Foo"}',
    '{"name":"","price":0}',
    '{"name":"01234567890","price":1000.5}',
    '{"name":"x","price":-1}',
    '{"name":"x","price":1000}',
    '{"name":"x","price":1,"qty":0}',
    '{"name":"x","price":1,"qty":101}',
    '{"name":"x","price":1,"qty":1.5}',
    '{"name":"x","price":1,"qty":"many"}',
    '{"name":"x","price":1,"qty":null}',
    '{"name":"x","price":1,"tags":"a"}',
    '{"name":"x","price":1,"tags":["a","toolong",3]}',
    '{"name":"x","price":1,"tags":["a","b","c","d"]}',
    '{"name":"x","price":1,"tags":[]}',
    '{"name":"x","price":1,"status":"gone"}',
    '{"name":"x","price":1,"status":1}',
    '{"name":"x","price":1,"status":null}',
    '{"name":"x","price":1,"sku":"abc-1234"}',
    '{"name":"x","price":1,"sku":"ABC-12345"}',
    '{"name":"x","price":1,"sku":1234}',
    '{"name":"x","price":1,"note":5}',
    '{"name":"x","price":1,"extra":true}',
    '{"extra":1,"name":5,"other":[1],"price":"abc"}',
    '{"name":"x","price":1,"name":""}',
    '[]', '"text"', 'null', '1', 'true',
    '{"name":"caf\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9","price":1}',
    '{"name":"\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600","price":1}',
    '{"name":"e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301","price":1}',
    '{"name":null,"price":null,"qty":null,"tags":null,"status":null,"sku":null,"note":null}',
])

schema_case("nested", {
    "type": "object",
    "properties": {
        "owner": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "email": {"type": "string"}},
            "required": ["id"],
        },
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "n": {"type": "integer", "exclusiveMinimum": 0},
                    "sub": {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
                },
                "required": ["n"],
                "additionalProperties": False,
            },
        },
        "meta": {"type": "object"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
    },
    "required": ["owner", "lines"],
}, [
    '{"owner":{"id":1},"lines":[{"n":1}]}',
    '{"owner":{"id":"1","email":"a"},"lines":[{"n":1,"sub":[[true,"yes",0]]}],"meta":{"a":1},"counts":{"a":1}}',
    '{"owner":{},"lines":[]}',
    '{"owner":1,"lines":{}}',
    '{"owner":{"id":"x"},"lines":[{"n":0},{"n":"a","x":1},5,{"n":2,"sub":[[1,2,"maybe"],"no",[null]]}]}',
    '{"owner":{"id":1},"lines":[{}]}',
    '{"owner":{"id":1},"lines":[{"n":1}],"meta":[],"counts":{"a":-1,"b":"x","c":2}}',
    '{"owner":{"id":1},"lines":[{"n":1}],"counts":[]}',
    '{"owner":{"id":1},"lines":[{"n":1}],"meta":"x"}',
    '{"lines":[{"n":1}]}',
    '{"owner":null,"lines":null}',
])

schema_case("extras typed", {
    "type": "object",
    "properties": {"a": {"type": "integer"}},
    "additionalProperties": {"type": "string", "minLength": 2},
}, [
    '{"a":1,"b":"xx"}', '{"b":"x","a":"q","c":1,"d":"ok"}', '{}', '[]',
])

schema_case("extras forbidden, no properties", {"type": "object", "additionalProperties": False}, [
    '{}', '{"a":1}', '[]',
])

schema_case("integers", {
    "type": "object",
    "properties": {
        "a": {"type": "integer", "minimum": -5, "maximum": 5},
        "b": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "multipleOf": 3},
        "c": {"type": "integer", "minimum": 2.0, "maximum": 100000000000000000000000000000},
        "d": {"type": "integer", "multipleOf": 7},
    },
}, [
    '{"a":-5,"b":3,"c":2,"d":14}', '{"a":-6}', '{"a":6}', '{"a":"5"}', '{"a":" 6 "}', '{"a":5.0}', '{"a":true}',
    '{"a":4.5}', '{"a":1e400}', '{"a":"1e3"}', '{"a":[]}',
    '{"b":0}', '{"b":10}', '{"b":4}', '{"b":12}', '{"b":11}', '{"b":9}', '{"b":-3}',
    '{"c":1}', '{"c":100000000000000000000000000001}', '{"c":100000000000000000000000000000}',
    '{"c":-100000000000000000000000000000}', '{"c":"123456789012345678901234567890"}',
    '{"d":700000000000000000000000000000}', '{"d":700000000000000000000000000001}', '{"d":-14}', '{"d":-15}',
    '{"a":-6,"b":4,"c":1,"d":8}',
])

schema_case("numbers", {
    "type": "object",
    "properties": {
        "a": {"type": "number", "minimum": -1.5, "maximum": 1e20},
        "b": {"type": "number", "exclusiveMinimum": 0.1, "exclusiveMaximum": 1e-7 * 1e8},
        "c": {"type": "number", "multipleOf": 0.1},
        "d": {"type": "number", "multipleOf": 3, "minimum": 0},
        "e": {"type": "number", "maximum": 5},
    },
}, [
    '{"a":0,"b":0.5,"c":0.3,"d":9}', '{"a":-2}', '{"a":1e21}', '{"a":"-1.6"}', '{"a":false}', '{"a":"x"}',
    '{"b":0.1}', '{"b":10}', '{"b":10.0000001}', '{"b":Infinity}', '{"b":-Infinity}',
    '{"c":0.35}', '{"c":0.7}', '{"c":1e-12}', '{"c":"0.45"}', '{"d":10}', '{"d":9.0000000001}', '{"d":-3}',
    '{"e":5.5}', '{"e":6}', '{"e":123456789012345678901234567890}', '{"e":"1e3"}',
    '{"a":-2,"b":0,"c":0.01,"d":1,"e":7}',
])

schema_case("strings", {
    "type": "object",
    "properties": {
        "a": {"type": "string", "pattern": "^abc$"},
        "b": {"type": "string", "pattern": "[0-9]+"},
        "c": {"type": "string", "pattern": "^.$"},
        "d": {"type": "string", "pattern": "^\\d+\\s\\w+$"},
        "e": {"type": "string", "minLength": 1},
        "f": {"type": "string", "maxLength": 1, "pattern": "x"},
        "g": {"type": "string", "pattern": "^(?i)hello|^[^a-z]*$"},
        "h": {"type": "string", "pattern": "it's \"quoted\""},
    },
}, [
    '{"a":"abc","b":"x1y","c":"\u00e9","d":"12 ab","e":"x","f":"x","g":"HeLLo","h":"it\'s \\"quoted\\""}',
    '{"a":"abc\\n"}', '{"a":"xabc"}', '{"a":"ABC"}', '{"a":1}', '{"a":null}', '{"a":["abc"]}',
    '{"b":"none"}', '{"b":"\u0664\u0662"}', '{"c":"e\u0301"}', '{"c":"\U0001F600"}', '{"c":""}', '{"c":"\\n"}',
    '{"d":"1 a"}', '{"d":"\u0664 \u00e9t\u00e9"}', '{"d":"1\u00a0a"}', '{"d":"1\\ta_b"}', '{"d":"1 a-b"}',
    '{"e":""}', '{"f":"xx"}', '{"f":"y"}', '{"f":""}', '{"g":"hello"}', '{"g":"123"}', '{"g":"abc"}',
    '{"h":"it\'s quoted"}',
])

schema_case("literals", {
    "type": "object",
    "properties": {
        "s": {"type": "string", "enum": ["a", "b", "c"]},
        "i": {"enum": [1, 2]},
        "t": {"const": True},
        "n": {"enum": ["x", None]},
        "m": {"enum": ["x", 1, None, False]},
        "q": {"const": "it's"},
        "z": {"type": "integer", "const": 0},
    },
}, [
    '{"s":"a","i":1,"t":true,"n":null,"m":false,"q":"it\'s","z":0}',
    '{"s":"d"}', '{"s":null}', '{"s":1}', '{"s":["a"]}',
    '{"i":1.0}', '{"i":true}', '{"i":"1"}', '{"i":3}', '{"i":1.5}', '{"i":100000000000000000000}',
    '{"i":{"a":1}}', '{"t":1}', '{"t":1.0}', '{"t":"true"}', '{"t":false}',
    '{"n":"y"}', '{"m":0}', '{"m":0.0}', '{"m":1}', '{"m":true}', '{"m":"1"}', '{"q":"its"}',
    '{"z":false}', '{"z":-0}', '{"z":"0"}',
])

schema_case("nullable and null", {
    "type": "object",
    "properties": {
        "a": {"type": ["integer", "null"], "minimum": 1},
        "b": {"type": ["null", "string"]},
        "c": {"type": "null"},
        "d": {"type": ["array", "null"], "items": {"type": ["number", "null"]}},
        "e": {"type": ["object", "null"], "properties": {"x": {"type": "integer"}}, "required": ["x"]},
        "f": {},
        "g": {"description": "anything", "default": 3},
    },
    "required": ["a", "c", "f"],
}, [
    '{"a":null,"c":null,"f":null}', '{"a":1,"b":"x","c":null,"d":[1,null,"2"],"e":null,"f":[{}],"g":{}}',
    '{"a":0,"c":1,"f":1}', '{"a":"x","b":1,"c":"null","d":null,"e":{},"f":"x"}', '{"d":[null,"x",{}],"e":{"x":"y"}}',
])

schema_case("list body", {"type": "array", "items": {"type": "integer", "maximum": 10}, "minItems": 2, "maxItems": 4}, [
    '[1,2]', '[1]', '[]', '[1,2,3,4,5]', '[1,"x",11,2]', '["x"]', '{"a":1}', '"1,2"', 'null', '[1,2,3,4,"x"]',
])

schema_case("any list", {"type": "array", "maxItems": 1}, ['[1]', '[1,2]', '[]', '{}'])
schema_case("string body", {"type": "string", "maxLength": 3}, ['"abc"', '"abcd"', '1', 'null', '[]'])
schema_case("dict body", {"type": "object", "additionalProperties": {"type": "boolean"}}, [
    '{"a":true,"b":"yes","c":"maybe","d":2}', '{}', '[]',
])

schema_case("formats", {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
    },
}, [
    '{"id":"12345678-1234-1234-1234-1234567890ab"}', '{"id":"12345678123412341234123456789ABC"}',
    '{"id":"urn:uuid:12345678-1234-1234-1234-1234567890AB"}', '{"id":"{12345678-1234-1234-1234-1234567890ab}"}',
    '{"id":"x"}', '{"id":""}', '{"id":"12345678123412341234123456789Xab"}', '{"id":"1234-5678"}',
    '{"id":"12345678-1234-1234-1234-1234567890a"}', '{"id":"12345678-1234-1234-1234-1234567890abc"}',
    '{"id":"1234567-81234-1234-1234-1234567890ab"}', '{"id":"12345678-1234-1234-12341-234567890ab"}',
    '{"id":"{12345678-1234-1234-1234-1234567890a}"}', '{"id":"{12345678-1234-1234-1234-1234567890abcd}"}',
    '{"id":"urn:uuid:12345678-1234-1234-1234-1234567890a"}', '{"id":"urn:uuid:x"}', '{"id":"{x}"}',
    '{"id":"12345678-1234-1234-1234-1234567890a\u00e9"}', '{"id":"\u00e9\u00e9"}', '{"id":"12345678 1234"}',
    '{"id":"1-2-3-4-5-6"}', '{"id":"12345678-1234-1234-1234-1234567890ab-"}', '{"id":"1234567812341234123412345678901"}',
    '{"id":"123456781234123412341234567890123"}', '{"id":1}', '{"id":null}', '{"id":["x"]}',
    '{"id":"{12345678123412341234123456789012}"}', '{"id":"12345678-1234-1234-1234-1234567890ab}"}',
])

TEMPORAL_TEXTS = [
    "2020-01-01", "1600-01-01", "1599-12-31", "0000-01-01", "0001-01-01", "9999-12-31", "2020-1-01", "2020/01/01",
    "2020-01-01x", "2020-01-01T00:00:00", "2020-01-01T00:00:01", "2020-01-01 00:00", "2020-01-01t00:00",
    "2020-01-01_00:00", "2020-01-01X00:00", "2020-01-01T25:00", "2020-01-01T23:60", "2020-01-01T23:59:60",
    "2020-01-01T0a:00", "2020-01-01T00-00", "2020-01-01T00:0a", "2020-01-01T00:00:0a", "2020-01-01T00:00:",
    "2020-01-01T00:00:00Z", "2020-01-01T00:00:00z", "2020-01-01T00:00:00+01:00", "2020-01-01T00:00:00-0130",
    "2020-01-01T00:00:00\u221201:00", "2020-01-01T00:00:00+01", "2020-01-01T00:00:00+1", "2020-01-01T00:00:00+01:6",
    "2020-01-01T00:00:00+01:60", "2020-01-01T00:00:00+24:00", "2020-01-01T00:00:00+23:59", "2020-01-01T00:00:00*01:00",
    "2020-01-01T00:00:00+0a:00", "2020-01-01T00:00:00+01:a0", "2020-01-01T00:00:00Zx", "2020-01-01T00:00:00.",
    "2020-01-01T00:00:00.1", "2020-01-01T00:00:00,5", "2020-01-01T00:00:00.123456789Z", "2020-01-01T00:00:00.000000",
    "2020-01-01T00:00.5", "2020-01-01T00:00Z", "2020-01-01T", "2020-01-01Tx", "2020-01-01T1", "2020-01-01 ",
    " 2020-01-01", "", "x", "abcdefghij", "202a-01-01", "2020-0a-01", "2020-01-0a", "2020-00-10", "2020-13-01",
    "2020-02-29", "2019-02-29", "2100-02-29", "2000-02-29", "2020-04-31", "2020-04-00",
    "86400", "86401", "-86400", "0", "+86400", "-0", "1e5", "86400.0", "86400.5", "-1.5", ".5", "5.", ".",
    "20000000000", "20000000001", "-20000000000", "-20000000001", "253402300799", "253402300799000",
    "253402300800000", "-62167219200", "-62167219201", "-62167219200000", "99999999999999999999", "9223372036854775807",
    "-9223372036854775808", "1700000000.123456789", "17000000000000.5", "1_000", "0x10", "86400 ",
]
schema_case("temporal", {
    "type": "object",
    "properties": {"at": {"type": "string", "format": "date-time"}, "on": {"type": "string", "format": "date"}},
}, [json.dumps({"at": t}) for t in TEMPORAL_TEXTS] + [json.dumps({"on": t}) for t in TEMPORAL_TEXTS] + [
    '{"at":%s,"on":%s}' % (n, n) for n in [
        "86400", "86401", "86400.0", "86400.5", "1e20", "-1e20", "true", "false", "null", "1.5", "100000000000000000000",
        "NaN", "20000000001", "-20000000000", "253402300799", "253402300800", "253402300799000", "253402300800000",
        "-62167219200", "-62167219201", "0", "-0.0", "1e-7", "20000000000.5", "-20000000000.5", "[]", "{}",
        "9223372036854775807", "-9223372036854775808", "1e400",
    ]
])

EMAILS = [
    "a@example.com", "A@Example.COM", "x", "", " ", "a@b", "a@localhost", "a@x.test", "a@x.local", "a@onion", "a@x.arpa",
    "a@x.invalid", "a@test", "@example.com", "a@", "a..b@example.com", ".a@example.com", "a.@example.com",
    "a@-x.com", "a@x-.com", "a@x.-y.com", "a@x-.y.com", "a@.x.com", "a@x..com", "a@example.com.",
    "\u00e9@example.com", "a@ex\u00e4mple.com", "a@\u00e9.com", "a@EX\u00c4MPLE.com", "\"a b\"@example.com", "\"ab\"@example.com",
    "\"a\\\"b\"@example.com", "\"a\"b@example.com", "\"a\"bc\"@example.com", "a b@example.com", "a(b)@example.com",
    "a,b@example.com", "a;b@example.com", "a\\b@example.com", "a[b]@example.com", "a<b@example.com", "a>b@example.com",
    "a@[1.2.3.4]", "a@[1.2.3]", "a@[1.2.3.256]", "a@[1..2.3]", "a@[01.2.3.4]", "a@[1.2.3.4444]", "a@[IPv6:::1]",
    "a@[abc]", "a@[x:y]", "a@[x:y\u00fb]", "Info@example.com", "POSTMASTER@Example.com", "info@EXAMPLE.COM",
    "a@ex_ample.com", "a@exa--mple.com", "a@ab--c.com", "a@xn--c.com", "a@XN--nxasmq6b.com", "a@example.c0m",
    "a@example.com1", "a@" + "x" * 63 + ".com", "a@" + "x" * 64 + ".com", "a@" + "x" * 65 + ".com",
    "a" * 65 + "@example.com", "a" * 250 + "@example.com", "a" * 240 + "@example.com", "a" * 242 + "@example.com",
    "a@" + ".".join(["x" * 60] * 5) + ".com", "\u00e9" * 130 + "@example.com",
    "a@xn--nxasmq6b.com", "a@xn--zz.com", "a@b@example.com", "a@exam ple.com", "a@example.com ", " a@example.com",
    "a\tb@example.com", "a@exa\tmple.com", "a\u00a0b@example.com", "a\u200bb@example.com", "\u0301a@example.com",
    "a\uff20example.com", "a\ufe6bexample.com", "aexample.com", "John <a@example.com>", "John Smith <a@example.com>",
    "\"John Smith\" <a@example.com>", "<a@example.com>", "John <a@example.com", "John <a@example.com> x",
    "Jo.hn <a@example.com>", "John <a@b>", "J\u00f6hn <a@example.com>", "<a@example.com", "x <>", "John <>",
    "a@example.com <b@example.com>", "  John   <a@example.com>  ", "a!#$%&'*+-/=?^_`{|}~@example.com",
    "a@ex!ample.com", "a@123.com", "a@1.2.3.4", "a@example.\u00e9", "\u0661@example.com", "a@\U0001F600.com",
    "a\U0001F600@example.com", "a@example.com\n", "a@x.y", "a" * 2049, "a@" + "b" * 2047,
]
schema_case("email", {"type": "object", "properties": {"e": {"type": "string", "format": "email"}}},
            [json.dumps({"e": e}) for e in EMAILS] + ['{"e":1}', '{"e":null}', '{"e":["a@example.com"]}'])

schema_case("mixed", {
    "type": "object",
    "properties": {
        "ids": {"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": 2},
        "when": {"type": ["string", "null"], "format": "date"},
        "tags": {"type": "object", "additionalProperties": {"type": ["array", "null"], "items": {"enum": ["a", "b"]}}},
        "score": {"type": "number", "minimum": 0, "maximum": 1, "multipleOf": 0.25},
        "level": {"type": "integer", "exclusiveMinimum": -1, "exclusiveMaximum": 3},
        "kind": {"type": ["string", "null"], "enum": ["x", None]},
        "child": {"type": "object", "properties": {"n": {"type": "integer"}}, "additionalProperties": False,
                  "required": ["n"]},
    },
    "required": ["ids"],
    "additionalProperties": False,
}, [
    '{"ids":[]}', '{"ids":["12345678-1234-1234-1234-1234567890ab","x"]}', '{"ids":["x","y","z"]}', '{"ids":"x"}',
    '{"ids":[1],"when":null,"tags":{"a":null,"b":["a","c"],"c":"a"},"score":0.5,"level":2,"kind":null}',
    '{"ids":[],"when":"2020-02-30","score":0.3,"level":3,"kind":"y","child":{"n":1,"m":2}}',
    '{"ids":[],"score":1.25,"level":-1,"child":{}}', '{"ids":[],"score":"0.75","level":"2.0","child":[]}',
    '{"ids":[],"score":-0.0,"level":false,"extra":1,"child":null}', '{"child":{"n":"x","z":1},"zz":0}',
    '{"ids":[],"score":true}', '{"ids":[],"score":1e-300}', '{"ids":[],"when":86400}', '{"ids":[],"when":"86400"}',
])

# Parameter schemas: (schema, bodies, parameter value lists)
schema_case("p integer", {"type": "integer", "minimum": 1, "maximum": 10},
            ['5', '"5"', '0', '11'],
            [["5"], ["0"], ["11"], ["x"], [" 7 "], ["1.0"], ["1.5"], [""], ["1", "20"], ["99999999999999999999999"]])
schema_case("p number", {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.5},
            ['1.5'], [["1.5"], ["0"], ["1.2"], ["inf"], ["nan"], ["x"], ["1e1"], ["-0.5"]])
schema_case("p boolean", {"type": "boolean"}, ['true', '"yes"', '2'],
            [["true"], ["yes"], ["0"], ["maybe"], ["TRUE"], [""]])
schema_case("p string", {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"},
            ['"ab"'], [["ab"], ["a"], ["abcde"], ["AB"], ["ab1"], [""], ["caf\u00e9"]])
schema_case("p enum", {"type": "string", "enum": ["red", "green"]}, ['"red"', '"blue"'],
            [["red"], ["blue"], ["Red"], [""]])
schema_case("p int enum", {"enum": [1, 2]}, ['1'], [["1"], ["3"]])
schema_case("p uuid", {"type": "string", "format": "uuid"}, [],
            [["12345678-1234-1234-1234-1234567890ab"], ["nope"], ["12345678-1234-1234-1234-1234567890AB"]])
schema_case("p date", {"type": "string", "format": "date"}, [], [["2020-01-01"], ["86400"], ["x"], ["2020-01-01T01:00"]])
schema_case("p datetime", {"type": ["string", "null"], "format": "date-time"}, [],
            [["2020-01-01T00:00Z"], ["2020-01-01"], ["1.5"], ["2020-13-01"], ["2020-01-01x"]])
schema_case("p email", {"type": "string", "format": "email"}, [],
            [["a@example.com"], ["John <a@example.com>"], ["a@b"], ["nope"], [" a@example.com "]])
schema_case("p uuid list", {"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": 2}, [],
            [["12345678-1234-1234-1234-1234567890ab"], ["x", "12345678123412341234123456789012"], ["a", "b", "c"]])
schema_case("p bool list", {"type": "array", "items": {"type": "boolean"}, "minItems": 2}, [],
            [["on", "off"], ["on"], ["x"], ["x", "y"]])
schema_case("p const", {"const": "fixed"}, [], [["fixed"], ["other"]])
schema_case("p number bounds", {"type": "number", "minimum": -1.5, "exclusiveMaximum": 1e20}, [],
            [["-1.5"], ["-1.6"], ["1e20"], ["-inf"], ["1_000.5"], [" 2 "], ["0x1"]])
schema_case("p nullable", {"type": ["integer", "null"], "maximum": 3}, ['null', '4'], [["2"], ["4"], ["null"]])
schema_case("p list", {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1, "maxItems": 3},
            [], [["1"], ["1", "2", "3"], ["1", "x", "-1"], ["1", "2", "3", "4"], ["a", "b", "c", "d"]])
schema_case("p string list", {"type": "array", "items": {"type": "string"}}, [], [["a"], ["a", "b"]])


# --- running them through FastAPI -------------------------------------------

app = FastAPI()
routes = {}


def mount(index, name, schema, params):
    annotation = to_annotation(schema)

    async def body_endpoint(value: Annotated[annotation, Body()]):
        return "ok"

    app.post(f"/s{index}/body")(body_endpoint)
    if params is None:
        return

    async def query_endpoint(v: Annotated[annotation, Query()]):
        return "ok"

    app.get(f"/s{index}/query")(query_endpoint)
    if schema.get("type") != "array":
        async def path_endpoint(v: Annotated[annotation, Path()]):
            return "ok"

        app.get(f"/s{index}/path/{{v}}")(path_endpoint)


async def call(method, raw_path, query=b"", body=b""):
    headers = [(b"host", b"testserver")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "https",
        "path": __import__("urllib.parse").parse.unquote(raw_path), "raw_path": raw_path.encode(),
        "query_string": query, "root_path": "", "headers": headers, "client": ("127.0.0.1", 1234),
        "server": ("testserver", 443), "state": {},
    }
    sent = {"body": False}

    async def receive():
        if not sent["body"]:
            sent["body"] = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)

    out = {"status": None, "body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    try:
        await app(scope, receive, send)
    except Exception:
        pass  # ServerErrorMiddleware already sent the 500 and re-raised
    return out["status"], out["body"].decode("utf-8")


async def main():
    for index, (name, schema, bodies, params) in enumerate(S):
        mount(index, name, schema, params)
    doc = {
        "generator": "generate_schema_fixtures.py",
        "python": sys.version.split()[0],
        "fastapi": fastapi.__version__,
        "pydantic": pydantic.VERSION,
        "email_validator": email_validator.__version__,
        "schemas": [],
    }
    for index, (name, schema, bodies, params) in enumerate(S):
        entry = {"name": name, "schema": schema, "bodies": [], "query": [], "path": []}
        for body in bodies:
            status, text = await call("POST", f"/s{index}/body", body=body.encode("utf-8"))
            entry["bodies"].append({"body": body, "status": status, "response": text})
        for values in params or []:
            query = "&".join("v=" + quote(v, safe="") for v in values).encode()
            status, text = await call("GET", f"/s{index}/query", query=query)
            entry["query"].append({"values": values, "status": status, "response": text})
            if schema.get("type") != "array" and len(values) == 1 and values[0]:
                status, text = await call("GET", f"/s{index}/path/" + quote(values[0], safe=""))
                entry["path"].append({"value": values[0], "status": status, "response": text})
        doc["schemas"].append(entry)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema_fixtures.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    total = sum(len(e["bodies"]) + len(e["query"]) + len(e["path"]) for e in doc["schemas"])
    print(f"wrote {total} cases for {len(doc['schemas'])} schemas to {out}")


if __name__ == "__main__":
    asyncio.run(main())
