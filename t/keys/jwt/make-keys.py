#!/usr/bin/env python3
# Regenerates the JWT test keys (t/keys/jwt/): PEM key pairs, HMAC
# secrets and JWKS files.  Test keys only, never use them elsewhere.
import base64, json, os
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519

os.chdir(os.path.dirname(os.path.abspath(__file__)))

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def i2b(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")

def save(name, key):
    with open(name + ".key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
    with open(name + ".pub", "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo))

def jwk(key, kid, alg=None):
    pub = key.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        n = pub.public_numbers()
        j = {"kty": "RSA", "n": b64u(i2b(n.n)), "e": b64u(i2b(n.e))}
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        n = pub.public_numbers()
        size = (pub.curve.key_size + 7) // 8
        crv = {256: "P-256", 384: "P-384", 521: "P-521"}[pub.curve.key_size]
        j = {"kty": "EC", "crv": crv, "x": b64u(i2b(n.x, size)),
             "y": b64u(i2b(n.y, size))}
    else:
        raw = pub.public_bytes(serialization.Encoding.Raw,
                               serialization.PublicFormat.Raw)
        j = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    j["kid"] = kid
    j["use"] = "sig"
    if alg:
        j["alg"] = alg
    return j

keys = {
    "rsa": rsa.generate_private_key(65537, 2048),
    "rsa2": rsa.generate_private_key(65537, 2048),
    "rsa1024": rsa.generate_private_key(65537, 1024),
    "ec256": ec.generate_private_key(ec.SECP256R1()),
    "ec384": ec.generate_private_key(ec.SECP384R1()),
    "ec521": ec.generate_private_key(ec.SECP521R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate(),
}
for name, key in keys.items():
    save(name, key)

secret = os.urandom(64)
with open("hs.secret", "w") as f:
    f.write(b64u(secret) + "\n")        # used with encoding=base64url
with open("hs-raw.secret", "w") as f:
    f.write("a-raw-test-secret-of-more-than-32-bytes-0123456789\n")
with open("short.secret", "w") as f:
    f.write("too-short\n")
open("empty.secret", "w").close()

def dump(name, jwks):
    with open(name, "w") as f:
        json.dump({"keys": jwks}, f, indent=1)

dump("all.jwks", [
    jwk(keys["rsa"], "rsa-1"),
    jwk(keys["ec256"], "ec-256", "ES256"),
    jwk(keys["ec384"], "ec-384"),
    jwk(keys["ec521"], "ec-521"),
    jwk(keys["ed25519"], "ed-1"),
    {"kty": "oct", "kid": "hs-1", "k": b64u(secret), "alg": "HS256"},
])
# rotation: old key only, both, new key only
dump("rot-old.jwks", [jwk(keys["rsa"], "k-old", "RS256")])
dump("rot-both.jwks", [jwk(keys["rsa"], "k-old", "RS256"),
                       jwk(keys["rsa2"], "k-new", "RS256")])
dump("rot-new.jwks", [jwk(keys["rsa2"], "k-new", "RS256")])
# the RSA key pinned to PS256 by its JWK "alg"
dump("rsa-ps256.jwks", [jwk(keys["rsa"], "rsa-ps", "PS256")])
# a JWKS with an encryption key only
enc = jwk(keys["rsa2"], "enc-1")
enc["use"] = "enc"
dump("enc-only.jwks", [enc])
# a JWK whose alg does not fit its key type
bad = jwk(keys["ec256"], "bad")
bad["alg"] = "HS256"
dump("bad-alg.jwks", [bad])
