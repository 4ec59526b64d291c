"""Who is asking, and may they: API tokens with roles, a login cookie, and CSRF tokens for forms.

Without any token configured, a dashboard bound to loopback is single-user: the person serving
it acts with every role, under their git identity. Once a token exists, every request needs one.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from suture.errors import SutureError, UsageError
from suture.store.tokens import Role, TokenRejected, TokenStore

COOKIE = "suture_token"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class AuthRequired(SutureError):
    """No token, or one that is expired, revoked or unknown (HTTP 401)."""

    exit_code = 2


class Forbidden(SutureError):
    """The token's role does not allow the action, or a form failed its CSRF check (HTTP 403)."""

    exit_code = 2


@dataclass(frozen=True)
class Principal:
    """The person (or robot) behind a request; `token_id` is None in single-user mode."""

    name: str
    role: Role
    token_id: str | None

    def require(self, needed: Role) -> None:
        """Raise Forbidden unless this principal's role allows `needed`."""
        if not self.role.allows(needed):
            raise Forbidden(f"{self.name} has role {self.role.value}; this needs "
                            f"{needed.value}", hint="ask an admin for a token with that role: "
                            f"suture token create --role {needed.value} --name NAME")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, tokens: TokenStore) -> None:
    """Refuse to serve beyond this machine while anyone reaching the port would be admin."""
    if not is_loopback(host) and not tokens.any_active():
        raise UsageError(
            f"refusing to listen on {host} with no API token configured: anyone who can reach "
            "the port could read every run and approve releases",
            hint="create one first (suture token create --role admin --name YOU), then sign in "
            "with it; or serve on 127.0.0.1")


class Gate:
    """Authenticates requests: bearer token, login cookie, or single-user mode."""

    def __init__(self, tokens: TokenStore, local_actor: str) -> None:
        self._tokens = tokens
        self._local_actor = local_actor
        # Signs CSRF tokens; a restart invalidates open forms, which only costs a reload.
        self._secret = secrets.token_bytes(32)

    def single_user(self) -> bool:
        """True while no token exists (only reachable on loopback, see check_bind)."""
        return not self._tokens.any_active()

    def principal(self, bearer: str | None, cookie: str | None) -> Principal:
        """Who is asking; AuthRequired when a token is needed and missing or rejected."""
        raw = bearer or cookie
        if raw is None:
            if self.single_user():
                return Principal(self._local_actor, Role.ADMIN, None)
            raise AuthRequired("this dashboard needs an API token",
                               hint="sign in at /login, or send `Authorization: Bearer <token>`")
        try:
            rec = self._tokens.verify(raw)
        except TokenRejected as exc:
            raise AuthRequired(f"token rejected: {exc.reason}",
                               hint="ask an admin for a new one: suture token create") from None
        return Principal(rec.name, rec.role, rec.id)

    def csrf_token(self, who: Principal) -> str:
        """The token a form of this principal must carry (bound to the principal)."""
        subject = f"{who.token_id or 'local'}:{who.name}".encode()
        return hmac.new(self._secret, subject, hashlib.sha256).hexdigest()

    def check_csrf(self, who: Principal, sent: str | None) -> None:
        """Forbidden unless `sent` is this principal's CSRF token."""
        if not sent or not hmac.compare_digest(sent, self.csrf_token(who)):
            raise Forbidden("the form's CSRF token is missing or wrong",
                            hint="reload the page and submit the form again")
