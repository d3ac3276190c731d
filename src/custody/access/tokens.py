"""Bearer tokens: OpenID Connect-compatible JWTs (RS256) from a local development issuer.

The issuer's key lives in ``$CUSTODY_VAR/dev-issuer-key.pem`` (``var/`` by default), made on first
use, so `custody token` and `custody serve` on one machine agree. The public key is published as a
JWKS at ``/.well-known/jwks.json`` with a discovery document beside it, so a client that speaks OIDC
can check the tokens; a deployment would point custody at its own identity provider instead.
Tokens expire on the wall clock, whatever clock the custody process runs on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from custody.access.roles import Principal, Role
from custody.domain.errors import CustodyError

ISSUER = "urn:custody:dev-issuer"
AUDIENCE = "custody"
ALGORITHM = "RS256"
DEFAULT_TTL = 8 * 3600
KEY_FILE = "dev-issuer-key.pem"


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why and what to do."""


@dataclass(frozen=True)
class Verified:
    """A token found good: who it names, and its id and expiry, by which signing out revokes it. A
    token minted before tokens had ids (7 December 2026) has none: it cannot be revoked, only expire."""

    principal: Principal
    token_id: str | None
    expires_at: datetime


class Issuer:
    def __init__(self, key: rsa.RSAPrivateKey, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self._key = key
        self._public = key.public_key()  # derived once: every request's token is checked against it
        self.issuer = issuer
        self.audience = audience
        public = self._public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(public).digest()[:12]).decode().rstrip("=")

    @classmethod
    def local(cls, var_dir: Path | None = None) -> Issuer:
        """The development issuer whose key is kept under ``var_dir`` (``$CUSTODY_VAR`` or ``var``)."""
        folder = var_dir or Path(os.environ.get("CUSTODY_VAR", "var"))
        path = folder / KEY_FILE
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise InvalidToken(f"{path} is not an RSA key; delete it and a new one is made")
            return cls(loaded)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        folder.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        return cls(key)

    def mint(self, principal: Principal, ttl_seconds: int = DEFAULT_TTL) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(16),
            "name": principal.name,
            "custody_role": principal.role.value,
        }
        if principal.agency:
            claims["custody_agency"] = principal.agency
        if principal.area:
            claims["custody_area"] = list(principal.area)
        if principal.office:
            claims["custody_office"] = principal.office
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(self, token: str) -> Verified:
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken(
                "the token has expired; sign in again (/signin) or mint one with `custody token`"
            ) from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(
                f"the token is not valid here ({_why(exc)}); sign in again (/signin) or mint one with `custody token`"
            ) from None
        area, agency = claims.get("custody_area") or [], claims.get("custody_agency")
        # A claim of the wrong shape is the token's fault, answered 401 like any other (a review found
        # an area given as one string answered 422, as if the request's own data were wrong).
        if not isinstance(area, list) or not all(isinstance(a, str) for a in area):
            raise InvalidToken("the token's custody_area claim is not a list of divisions; mint a new one")
        if agency is not None and not isinstance(agency, str):
            raise InvalidToken("the token's custody_agency claim is not a division; mint a new one")
        try:
            principal = Principal(
                subject=str(claims["sub"]),
                name=str(claims.get("name") or claims["sub"]),
                role=Role(str(claims.get("custody_role"))),
                agency=agency,
                area=tuple(area),
                office=claims.get("custody_office"),
            )
        except (ValueError, TypeError, CustodyError) as exc:
            raise InvalidToken(f"the token's custody claims are incomplete ({exc}); mint a new one") from None
        token_id = claims.get("jti")
        return Verified(
            principal,
            str(token_id) if token_id is not None else None,
            datetime.fromtimestamp(int(claims["exp"]), UTC),
        )

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._public))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}

    def discovery(self, base_url: str) -> dict[str, Any]:
        """The OpenID Provider metadata a client needs to check custody's tokens."""
        base = base_url.rstrip("/")
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "authorization_endpoint": f"{base}/signin",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "claims_supported": ["sub", "name", "custody_role", "custody_agency", "custody_area", "custody_office"],
        }


def _why(exc: jwt.PyJWTError) -> str:
    """Why a token was refused, in words (the library's own message can be a codec's)."""
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"it has no '{exc.claim}' claim"
    reasons: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
        (jwt.InvalidSignatureError, "its signature does not match this issuer's key"),
        (jwt.InvalidAudienceError, "it was issued for another audience"),
        (jwt.InvalidIssuerError, "another issuer made it"),
        (jwt.ImmatureSignatureError, "it is not valid yet"),
        (jwt.InvalidAlgorithmError, "it is signed with an algorithm custody does not accept"),
        (jwt.DecodeError, "it cannot be read as a signed JWT"),
    )
    return next((words for kind, words in reasons if isinstance(exc, kind)), "it cannot be verified")
