#!/usr/bin/python3
"""Makes a JWKS and JWTs signed with PyJWT, for the gateway's JWT tests.

    /usr/bin/python3 make_jwts.py OUT_DIR [--now SECONDS]

Writes OUT_DIR/jwks.json (public keys only, plus the HS256 secret, which an
`oct` JWK carries) and OUT_DIR/tokens.json ({name: token}). The private keys
are thrown away. Needs Debian's python3-jwt and python3-cryptography.

Without --now the dates are absolute and far away (valid tokens expire in
2100, expired ones did in 2001): that is how the checked-in fixtures of
Tests/GatewayAuthTests/Fixtures were made. With --now (the end-to-end tests)
they are relative to it, so the gateway's own clock is what decides.

Claims of a valid token: iss "https://issuer.example", aud "gateway-tests",
sub "user-1", scope "orders:read orders:write".
"""

import base64
import hashlib
import hmac
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://issuer.example"
AUDIENCE = "gateway-tests"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    out = sys.argv[1]
    now = int(sys.argv[sys.argv.index("--now") + 1]) if "--now" in sys.argv else None
    future = now + 3600 if now else 4102444800  # 2100-01-01
    past = now - 3600 if now else 978307200  # 2001-01-01
    issued = now - 60 if now else 946684800  # 2000-01-01

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    secret = os.urandom(32)

    def jwk(public, **extra):
        key = json.loads(RSAAlgorithm.to_jwk(public) if isinstance(public, rsa.RSAPublicKey) else ECAlgorithm.to_jwk(public))
        key.update(extra)
        return key

    jwks = {"keys": [
        jwk(rsa_key.public_key(), kid="rsa-1", use="sig", alg="RS256"),
        jwk(ec_key.public_key(), kid="ec-1", use="sig"),
        {"kty": "oct", "kid": "hs-1", "k": b64(secret), "alg": "HS256"},
        # Keys a real identity provider publishes that the gateway must skip:
        jwk(rsa_other.public_key(), kid="enc-1", use="enc"),
        {"kty": "OKP", "kid": "ed-1", "crv": "Ed25519", "x": b64(b"\x01" * 32)},
    ]}

    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "scope": "orders:read orders:write",
              "iat": issued, "exp": future}

    def token(key, alg, kid, changes=None, drop=(), headers=None):
        payload = dict(claims)
        payload.update(changes or {})
        for name in drop:
            payload.pop(name)
        extra = {"kid": kid} if kid else {}
        extra.update(headers or {})
        return jwt.encode(payload, key, algorithm=alg, headers=extra)

    def tampered_payload(value):
        header, _, signature = value.split(".")
        payload = dict(claims, sub="admin")
        return ".".join([header, b64(json.dumps(payload).encode()), signature])

    def flipped_signature(value):
        header, payload, signature = value.split(".")
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[len(raw) // 2] ^= 0x01
        return ".".join([header, payload, b64(bytes(raw))])

    def unsigned(alg_header):
        header = b64(json.dumps(alg_header).encode())
        return header + "." + b64(json.dumps(claims).encode()) + "."

    def hs256_with(key_bytes, kid):
        # What an attacker sends: HS256 "signed" with the RSA public key as the secret
        # (PyJWT refuses to do this, so it is done by hand).
        header = {"alg": "HS256", "typ": "JWT"}
        if kid:
            header["kid"] = kid
        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        mac = hmac.new(key_bytes, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + b64(mac)

    rsa_pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    rs256 = token(rsa_key, "RS256", "rsa-1")
    es256 = token(ec_key, "ES256", "ec-1")
    tokens = {
        "rs256_valid": rs256,
        "es256_valid": es256,
        "hs256_valid": token(secret, "HS256", "hs-1"),
        "es256_no_kid": token(ec_key, "ES256", None),
        "rs256_aud_array": token(rsa_key, "RS256", "rsa-1", {"aud": ["other", AUDIENCE]}),
        "rs256_fractional_exp": token(rsa_key, "RS256", "rsa-1", {"exp": future + 0.5}),
        "rs256_tampered_payload": tampered_payload(rs256),
        "rs256_tampered_signature": flipped_signature(rs256),
        "es256_tampered_signature": flipped_signature(es256),
        "rs256_other_key": token(rsa_other, "RS256", "rsa-1"),
        "rs256_expired": token(rsa_key, "RS256", "rsa-1", {"exp": past}),
        "rs256_nbf_future": token(rsa_key, "RS256", "rsa-1", {"nbf": future - 60}),
        "rs256_wrong_issuer": token(rsa_key, "RS256", "rsa-1", {"iss": "https://evil.example"}),
        "rs256_wrong_audience": token(rsa_key, "RS256", "rsa-1", {"aud": "someone-else"}),
        "rs256_no_exp": token(rsa_key, "RS256", "rsa-1", drop=["exp"]),
        "rs256_no_sub": token(rsa_key, "RS256", "rsa-1", drop=["sub"]),
        "rs256_unknown_kid": token(rsa_key, "RS256", "rsa-9"),
        "rs256_crit": token(rsa_key, "RS256", "rsa-1", headers={"crit": ["exp"]}),
        "rs256_scope_read_only": token(rsa_key, "RS256", "rsa-1", {"scope": "orders:read"}),
        "rs256_scope_array": token(rsa_key, "RS256", "rsa-1", {"scope": ["orders:write", "orders:read"]}),
        "rs256_no_scope": token(rsa_key, "RS256", "rsa-1", drop=["scope"]),
        "alg_none": unsigned({"alg": "none", "typ": "JWT"}),
        "alg_none_with_kid": unsigned({"alg": "none", "kid": "rsa-1"}),
        "hs256_confusion_rsa_pem": hs256_with(rsa_pem, "rsa-1"),
        "hs256_confusion_no_kid": hs256_with(rsa_pem, None),
        "rs384": token(rsa_key, "RS384", "rsa-1"),
    }
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "jwks.json"), "w") as f:
        json.dump(jwks, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out, "tokens.json"), "w") as f:
        json.dump(tokens, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
