#!/usr/bin/env python3
"""Golden fixtures for the built-in "items" handler, recorded from the real FastAPI.

Runs FastAPI's tutorial app (below, unchanged) as a plain ASGI application, sends
each request with exact raw bytes (path, query string, content-type, body) the way
uvicorn would present them, and records FastAPI's status, content-type and body.

    python3 generate_fastapi_fixtures.py      # rewrites fixtures.json next to this file

It also writes openapi.json (the app's /openapi.json as FastAPI sends it) and
swagger_ui.html (FastAPI's /docs page with the gateway's favicon and no OAuth2
redirect), and ../../GatewayValidationTests/Fixtures/json_loads.json.

Only requests that Starlette routes to `GET,PUT /items/{item_id}` or `POST /items/`
are kept: the gateway's router, not the handler, answers everything else.
"""
import asyncio
import base64
import json
import os
import sys
from typing import Union
from urllib.parse import unquote

import fastapi
import pydantic
import starlette
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    description: Union[str, None] = None
    price: float
    tax: Union[float, None] = None


@app.get("/items/{item_id}")
def read_item(item_id: int, q: Union[str, None] = None):
    return {"item_id": item_id, "q": q}


@app.post("/items/")
def create_item(item: Item):
    return item


@app.put("/items/{item_id}")
def update_item(item_id: int, item: Item):
    return {"item_id": item_id, **item.model_dump()}


# ---------------------------------------------------------------------------


async def call(method: str, raw_target: bytes, content_type, body: bytes):
    raw_path, _, query = raw_target.partition(b"?")
    headers = [(b"host", b"testserver")]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        # What uvicorn does: the path is percent-decoded (utf-8, errors=replace).
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 443),
        "state": {},
    }
    sent = {"body": False}

    async def receive():
        if not sent["body"]:
            sent["body"] = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)

    out = {"status": None, "headers": [], "body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = message.get("headers", [])
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    try:
        await app(scope, receive, send)
    except Exception:
        pass  # ServerErrorMiddleware already sent the 500 and re-raised
    ctype = None
    for k, v in out["headers"]:
        if k.lower() == b"content-type":
            ctype = v.decode("latin-1")
    return out["status"], ctype, out["body"]


J = b"application/json"
cases = []


def case(note, method, target, body=None, content_type=J):
    if isinstance(target, str):
        target = target.encode("utf-8")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(content_type, str):
        content_type = content_type.encode("latin-1")
    cases.append((note, method, target, content_type, body or b""))


# --- GET read_item ---------------------------------------------------------
for q in ["", "?q=hello", "?q=", "?q", "?q=hello%20world", "?q=a+b", "?q=%E2%82%AC", "?q=caf%C3%A9",
          "?q=%zz", "?q=%", "?q=%4", "?q=100%", "?q=%FF", "?q=%C3", "?q=%ED%A0%80", "?q=%F0%9F%98",
          "?q=one&q=two", "?q=one&q", "?q=one&q=", "?%71=encoded-name", "?Q=upper", "?q=a&x=1",
          "?x=1", "?&&q=x&&", "?q=a;b", "?q=a=b=c", "?q=%2B%26%3D", "?q=%22quoted%22%5C",
          "?q=%00%01%1F%7F", "?q=tab%09nl%0A", "?q=%F0%9F%98%80", "?q=" + "x" * 300, "?q=%u1234",
          "?q=%e2%82%ac", "?=x&q=y", "?q+=x", "?q%20=x", "?a=1&b=2&q=last&c=3", "?q=%3Cscript%3E",
          "?q=\u00e9"]:
    case("read_item query " + repr(q), "GET", "/items/42" + q, content_type=None)
for item_id in ["42", "0", "-0", "-42", "+42", "00042", "1_000", "1__000", "_1", "1_", "4.0", "4.00", "4.",
                "4.5", ".0", "-0.0", "1e3", "0x10", "0b1", "abc", "4a", "%20", "%2042", "42%20", "%20%2042%20%20",
                "%0942", "42%0A", "%C2%A042", "%E3%80%8042", "%E2%80%8B42", "%1C42", "%C2%8542",
                "99999999999999999999", "9223372036854775807", "9223372036854775808",
                "-9223372036854775809", "18446744073709551616.000", "%34%32", "%2B42", "%2d5",
                "%D9%A4%D9%A2", "%EF%BC%94%EF%BC%92", "inf", "nan", "true", "null", "%FF", "%zz", "%",
                "1" * 4300, "1" * 4301, "-" + "1" * 4300, "0" * 4400 + "7", "1" * 4299 + ".0", "1" * 4301 + ".0",
                "%20" + "1" * 4301, "1" * 4301 + "%20", "1_" * 3000 + "1", "4.0_0", "1_0.0", "+-1", "--1",
                "-", "+", "%2B", "%F0%9F%98%80", "%22"]:
    case("read_item item_id " + item_id[:40], "GET", "/items/" + item_id, content_type=None)
case("read_item bad id and query", "GET", "/items/x?q=y", content_type=None)
case("read_item ignores body", "GET", "/items/7?q=b", body='{"not":"read"}')
case("read_item ignores bad body", "GET", "/items/7", body='{oops', content_type=J)
case("read_item raw utf-8 in query (latin-1 decoded)", "GET", "/items/1?q=caf\u00e9".encode("utf-8"),
     content_type=None)

# --- POST create_item / PUT update_item: bodies ------------------------------
ok_bodies = [
    '{"name":"Foo","price":10}',
    '{"name":"Foo","price":10.5}',
    '{"name":"Foo","description":"A very nice Item","price":35.4,"tax":3.2}',
    '{"name":"Foo","description":null,"price":1,"tax":null}',
    '{"price":1,"name":"reordered"}',
    '{"name":"Foo","price":10,"extra":"ignored","nested":{"a":[1,2,{"b":null}]}}',
    ' \t\r\n{ "name" : "spaces" , "price" : 2 } \n',
    '{"name":"","price":0}',
    '{"name":"x","price":-0}',
    '{"name":"x","price":-0.0}',
    '{"name":"x","price":0.1}',
    '{"name":"x","price":1e16}',
    '{"name":"x","price":1e15}',
    '{"name":"x","price":123456789012345678}',
    '{"name":"x","price":1e-5}',
    '{"name":"x","price":0.0001}',
    '{"name":"x","price":1e300}',
    '{"name":"x","price":1.7976931348623157e308}',
    '{"name":"x","price":5e-324}',
    '{"name":"x","price":1E+2}',
    '{"name":"x","price":2.5e-3}',
    '{"name":"x","price":100000000000000000000000}',
    '{"name":"x","price":3.141592653589793238462643383279}',
    '{"name":"x","price":9007199254740993}',
    '{"name":"x","price":1.5e16}',
    '{"name":"x","price":12345678.9}',
    '{"name":"x","price":true}',
    '{"name":"x","price":false,"tax":true}',
    '{"name":"x","price":"12.5"}',
    '{"name":"x","price":" 12.5 "}',
    '{"name":"x","price":"1_000.5"}',
    '{"name":"x","price":"1e3"}',
    '{"name":"x","price":".5"}',
    '{"name":"x","price":"-0"}',
    '{"name":"x","price":"10"}',
    '{"name":"x","price":1,"tax":"0.25"}',
    '{"name":"caf\u00e9 \u20ac \U0001F600 \u4e2d\u6587","price":1}',
    '{"name":"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t","price":1}',
    '{"name":"\\u00e9\\u20ac\\ud83d\\ude00\\u0000\\u001f\\u007f\\u2028","price":1}',
    '{"name":"raw \u007f del","price":1}',
    '{"name":"dup","name":"last wins","price":1,"price":2}',
    '{"name":"x","price":1,"extra":NaN}',
    '{"name":"x","price":1,"extra":"\\ud800"}',
    '{"name":"a\\ud800","price":1}',
    '{"name":"x","description":"\\udc00\\ud800","price":1}',
    '{"name":"x","price":NaN}',
    '{"name":"x","price":Infinity}',
    '{"name":"x","price":-Infinity}',
    '{"name":"x","price":1e400}',
    '{"name":"x","price":"inf"}',
    '{"name":"x","price":"nan"}',
    '{"name":"x","price":1,"tax":-1e999}',
    '{"name":"x","price":' + "1" * 400 + '}',
    '{"name":"x","price":' + "1" * 308 + '}',
    '{"name":"x","price":1,"extra":' + "1" * 4301 + '}',
    '{"name":"x","price":1,"extra":' + "1" * 4300 + '}',
    '{"name":"x","price":1,"extra":1' + "0" * 5000 + '.5}',
]
bad_bodies = [
    '{}',
    '{"name":"Foo"}',
    '{"price":1}',
    '{"description":"d","tax":1,"extra":[1,{"x":2.50}]}',
    '{"name":1,"price":1}',
    '{"name":1.5,"price":1}',
    '{"name":1e16,"price":1}',
    '{"name":-0,"price":1}',
    '{"name":123456789012345678901234567890,"price":1}',
    '{"name":true,"price":1}',
    '{"name":false,"price":1}',
    '{"name":null,"price":1}',
    '{"name":[],"price":1}',
    '{"name":["a",1,null],"price":1}',
    '{"name":{},"price":1}',
    '{"name":{"k":"v","n":[true]},"price":1}',
    '{"name":"x","price":"abc"}',
    '{"name":"x","price":""}',
    '{"name":"x","price":"1__0"}',
    '{"name":"x","price":"0x10"}',
    '{"name":"x","price":null}',
    '{"name":"x","price":[]}',
    '{"name":"x","price":[1.0]}',
    '{"name":"x","price":{}}',
    '{"name":"x","price":{"a":1}}',
    '{"name":"x","price":' + "1" * 309 + '}',
    '{"name":"x","price":-' + "1" * 400 + '}',
    '{"name":"x","price":1,"tax":"abc"}',
    '{"name":"x","price":1,"tax":[]}',
    '{"name":"x","price":1,"description":1}',
    '{"name":"x","price":1,"description":false}',
    '{"name":"x","price":1,"description":{"a":"b"}}',
    '{"name":2,"description":3,"price":"p","tax":"t"}',
    '{"description":3,"tax":[]}',
    '{"name":NaN,"price":1}',
    '{"name":Infinity}',
    '{"price":1,"x":"\\ud800"}',
    '{"name":"x","price":"\\ud800"}',
    '{"name":"x","price":"caf\u00e9"}',
    '{"name":"x","price":"\\u0000"}',
    '{"name":"a","name":2,"price":1}',
    '{"name":1,"price":2,"name":3,"a":4}',
    '{"price":0.1,"price":1e16,"a":1,"price":-0.0}',
    '[]',
    '[1,2]',
    '[{"name":"x","price":1}]',
    '"a string"',
    '"\\u00e9"',
    '42',
    '-0',
    '1.5',
    '1e16',
    'true',
    'false',
    'null',
    'NaN',
    '""',
    ' null ',
    '[NaN]',
    '"\\ud800"',
]
invalid_json = [
    '', ' ', '\n\t', '{', '[', '"', '{"', '{"a"', '{"a":', '{"a":1', '{"a":1,', '{"a":1,}', '{"a" 1}',
    '{a:1}', "{'a':1}", '{"a":1 "b":2}', '{"a":1}}', '{"a":1} x', '{"a":1}\n\n[', '[1,]', '[1 2]', '[,1]',
    '{,}', '{"a":01}', '{"a":-}', '{"a":-a}', '{"a":1.}', '{"a":.5}', '{"a":1e}', '{"a":1e+}', '{"a":+1}',
    '{"a":tru}', '{"a":True}', '{"a":nul}', '{"a":NAN}', '{"a":-Inf}', '{"a":infinity}', '{"a":"\\x"}',
    '{"a":"\\', '{"a":"\\u12"}', '{"a":"\\u12', '{"a":"\\u12345', '{"a":"\\u123"', '{"a":"\\u1234"',
    '{"a":"\\u1234', '{"a":"\\uZZZZ"}', '{"a":"\\ud800\\u12"}', '{"a":"\\ud800\\uZZZZ"}', '{"a":"\\ud800\\',
    '{"a":"\\ud800\\x"}', '{"a":"\\ud800\\u"}', '{"a":"\\ud800\\ud', '{"a":"\\ud800\\udc00',
    '{"a":"\\ud800\\udc0', '{"a":"\\ud800\\udc00"', '{"a":"\\ud800x"}', '{"a":"b\tc"}', '{"a":"b\nc"}',
    '{"a":"b\x00"}', '{"a":"b\x1f"}', '{"\x01":1}', '{"a":"unterminated}', '{"a":"caf\u00e9', '["\u00e9\u00e9", x]',
    '{"\u00e9":\u00e9}', '["\U0001F600", ?]', '{"a":\u00a01}', '\u00a0{}', '\ufeff{}', '{"a":1}\u00a0',
    '{"a":[1,2,3,}', '{"a":{"b":}}', '[[[[[[', ']', '}', 'x', '-', '-x', 'nulll', '{"a":1}x', '{"a":1}/*c*/',
    '{"name":"x","price":10} {"name":"y","price":1}', '\x00', '{\x0b}', '{"a"\x0c:1}', '{"a":1\r\n,\r\n"b"}',
    '[1,2', '[1,2,', '[1e5e5]', '[0x10]', '[00]', '[-01]', '[1.5.5]', '["a" "b"]', '{"a":1;"b":2}',
    '{"a"::1}', '{"a":1,,"b":2}', '{"a":[}', '{"a":"\\u00"}',
]
for b in ok_bodies + bad_bodies:
    case("create_item " + b[:60], "POST", "/items/", body=b)
for b in invalid_json:
    case("create_item invalid json " + repr(b)[:60], "POST", "/items/", body=b)
for b in ['{"name":"Foo","price":10}', '{"name":"x","price":1e16,"tax":0.1,"description":"d"}',
          '{"item_id":"body wins?","name":"n","price":1}', '{"name":1}', '{"a":', '',
          '{"name":"x","price":NaN}', '[1]', 'null']:
    for item_id in ["5", "abc", "%2B7", "4.0", "1" * 4301]:
        case("update_item " + item_id[:20] + " " + b[:40], "PUT", "/items/" + item_id, body=b)
case("update_item query ignored", "PUT", "/items/3?q=x&item_id=9", body='{"name":"n","price":2}')

# --- encodings and content types --------------------------------------------
good = '{"name":"Foo","price":10}'
for ct in [None, "application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
           "Application/Json;charset=latin-1", "application/vnd.api+json", "application/problem+json",
           "application/merge-patch+json", "application/x-json", "application/json-patch", "application/jsonx",
           "text/json", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
           "application/octet-stream", "", " ", "application", "application/", "/json", "json",
           " application/json ", "application/json ;x=y", "application/ json", "application /json",
           "application/json, text/plain", "application/json/x", "multipart/form-data; boundary=x",
           "application/+json", "application/JSON+x", "*/*"]:
    case("content-type " + repr(ct), "POST", "/items/", body=good, content_type=ct)
    case("content-type invalid json " + repr(ct), "POST", "/items/", body='{"name":', content_type=ct)
case("no content-type empty body", "POST", "/items/", body="", content_type=None)
case("text/plain empty body", "POST", "/items/", body="", content_type="text/plain")
case("text/plain unicode body", "POST", "/items/", body="caf\u00e9 \U0001F600", content_type="text/plain")
case("text/plain control chars", "POST", "/items/", body='a"\\\n\x00\x7f', content_type="text/plain")
case("text/plain invalid utf-8", "POST", "/items/", body=b"\xff\xfe{}", content_type="text/plain")
case("no content-type invalid utf-8", "POST", "/items/", body=b"ab\xc3(", content_type=None)
case("PUT text/plain and bad id", "PUT", "/items/z", body=good, content_type="text/plain")
case("PUT no content-type", "PUT", "/items/1", body=good, content_type=None)
for raw in [b'\xef\xbb\xbf{"name":"bom","price":1}', b'\xef\xbb\xbf', b'\xef\xbb\xbf[', b'{"name":"\xff","price":1}',
            b'{"name":"a\xc3","price":1}', b'{"name":"\xed\xa0\x80","price":1}', b'{"name":"\xc0\xaf","price":1}',
            b'{"name":"\xf4\x90\x80\x80","price":1}', b'{"a" x "\xff"}', b'{"name":"ok", "price": 1} \xe2\x82',
            '{"name":"utf16","price":1}'.encode("utf-16-le"), '{"name":"utf16","price":1}'.encode("utf-16"),
            '{"name":"utf16be","price":1}'.encode("utf-16-be"), '{"name":"utf32","price":1}'.encode("utf-32"),
            '{"name":"utf32le","price":1}'.encode("utf-32-le"), '{"name":"\u00e9", x'.encode("utf-16-le"),
            '{"name":"\U0001F600", x'.encode("utf-16"), b'\x00', b'{\x00', b'{\x00}\x00', b'\x00{', b'"\x00"',
            b'{"a":1}\x00', b'\x00\x00\x00{']:
    case("encoding " + repr(raw)[:60], "POST", "/items/", body=raw)
case("errors in path and body together", "PUT", "/items/x", body='{"name":1,"price":"abc","tax":[]}')
case("missing body and bad id", "PUT", "/items/x", body="")
case("missing body PUT no content-type", "PUT", "/items/1", body="", content_type=None)
case("invalid json and bad id", "PUT", "/items/x", body='{"name":')


async def main():
    out = []
    seen = set()
    for note, method, target, ctype, body in cases:
        key = (method, target, ctype, body)
        if key in seen:
            continue
        seen.add(key)
        status, rctype, rbody = await call(method, target, ctype, body)
        if status in (404, 405):
            print("skipped, not routed:", method, target[:60], file=sys.stderr)
            continue
        raw_path, _, query = target.partition(b"?")
        segments = raw_path.split(b"/")
        params = [segments[2].decode("ascii")] if len(segments) == 3 and segments[2] else []
        entry = {
            "note": note,
            "method": method,
            "target": target.decode("utf-8"),
            "pathParameters": params,
            "query": query.decode("utf-8") if b"?" in target else None,
            "contentType": ctype.decode("latin-1") if ctype is not None else None,
        }
        put_bytes(entry, "body", body)
        entry["expected"] = {"status": status, "contentType": rctype}
        put_bytes(entry["expected"], "body", rbody)
        out.append(entry)
    doc = {
        "generator": "generate_fastapi_fixtures.py",
        "versions": {"python": sys.version.split()[0], "fastapi": fastapi.__version__,
                     "pydantic": pydantic.VERSION, "starlette": starlette.__version__},
        "cases": out,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(out)} cases to {path}", file=sys.stderr)
    write_json_loads_fixtures()
    await write_openapi_fixtures()


async def write_openapi_fixtures():
    """The app's /openapi.json exactly as FastAPI sends it, and FastAPI's Swagger UI page
    as the gateway serves it (Swagger UI's favicon from the same CDN, no OAuth2 redirect page),
    for the gateway's OpenAPI tests."""
    from fastapi.openapi.docs import get_swagger_ui_html

    status, ctype, body = await call("GET", b"/openapi.json", None, b"")
    assert status == 200 and ctype == "application/json", (status, ctype)
    directory = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(directory, "openapi.json"), "wb") as f:
        f.write(body)
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=app.title + " - Swagger UI",
        swagger_favicon_url="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/favicon-32x32.png",
        oauth2_redirect_url=None,
    )
    with open(os.path.join(directory, "swagger_ui.html"), "wb") as f:
        f.write(page.body)
    print(f"wrote openapi.json ({len(body)} bytes) and swagger_ui.html to {directory}", file=sys.stderr)


def write_json_loads_fixtures():
    """What `json.loads(bytes)` says about each request body above, for the JSON parser's own tests.
    (Nesting depth limits are left out: they depend on the caller's stack depth.)"""
    entries = []
    seen = set()
    for body in [c[4] for c in cases]:
        if body in seen:
            continue
        seen.add(body)
        entry = {}
        put_bytes(entry, "input", body)
        try:
            json.loads(body)
            entry["outcome"] = "valid"
        except json.JSONDecodeError as e:
            entry["outcome"] = "syntax"
            entry["message"] = e.msg
            entry["position"] = e.pos
        except ValueError:  # UnicodeDecodeError, int() over 4300 digits
            entry["outcome"] = "undecodable"
        entries.append(entry)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "GatewayValidationTests",
                        "Fixtures", "json_loads.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"python": sys.version.split()[0], "cases": entries}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(entries)} json.loads cases to {os.path.normpath(path)}", file=sys.stderr)


def put_bytes(d, key, raw: bytes):
    """Bytes as text when they are valid UTF-8 without NULs, else base64 (JSON can't hold raw bytes)."""
    try:
        text = raw.decode("utf-8")
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", raw, 0, 1, "nul")
        d[key] = text
    except UnicodeDecodeError:
        d[key + "Base64"] = base64.b64encode(raw).decode("ascii")


if __name__ == "__main__":
    asyncio.run(main())
