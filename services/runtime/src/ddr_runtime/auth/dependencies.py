"""FastAPI dependencies that authenticate the caller and enforce the roles a route declares.

Every route states who may call it, with ``require_roles(...)`` or, rarely, ``public_route``;
the app factory refuses to build an app with a route that states neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ddr_runtime.auth.revocation import RevocationList, RevocationsUnavailable, TokenRevoked
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import ExpiredTokenError, InvalidTokenError, TokenVerifier
from ddr_runtime.http.problems import Forbidden, ServiceUnavailable, Unauthorized

# RFC 6750: a request without credentials gets the bare challenge, a bad token an error code.
_CHALLENGE = "Bearer"
_REJECTED_CHALLENGE = 'Bearer error="invalid_token"'

# auto_error=False: a missing token is answered by us, as a problem with the Bearer challenge.
_bearer_scheme = HTTPBearer(auto_error=False, description="JWT signed with EdDSA by the platform's issuer")


def token_verifier(request: Request) -> TokenVerifier:
    """The verifier ``create_app`` put on ``app.state``; read per request, never at import time."""
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise TypeError("app.state.token_verifier holds no TokenVerifier: build the app with create_app")
    return verifier


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Principal:
    """The authenticated caller; 401 with a Bearer challenge when the token is missing, not trusted or
    revoked; 503 when the revocation list cannot be kept current (no token is trusted then)."""
    if credentials is None:
        raise Unauthorized("a bearer token is required", headers={"WWW-Authenticate": _CHALLENGE})
    try:
        principal = token_verifier(request).verify(credentials.credentials)
        revocations = getattr(request.app.state, "revocations", None)
        if isinstance(revocations, RevocationList):
            revocations.check(principal)
        return principal
    except TokenRevoked:
        raise Unauthorized(
            "the bearer token was revoked", headers={"WWW-Authenticate": _REJECTED_CHALLENGE}
        ) from None
    except RevocationsUnavailable:
        raise ServiceUnavailable(
            "token revocations cannot be checked right now; try again shortly", headers={"Retry-After": "5"}
        ) from None
    except ExpiredTokenError:
        raise Unauthorized(
            "the bearer token has expired", headers={"WWW-Authenticate": _REJECTED_CHALLENGE}
        ) from None
    except InvalidTokenError:
        raise Unauthorized(
            "the bearer token is not valid", headers={"WWW-Authenticate": _REJECTED_CHALLENGE}
        ) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class AccessRequirement:
    """Base of the dependencies that decide who may call a route; the app factory looks for one on every
    route. :class:`RoleRequirement` admits bearer tokens by role; the key service admits services by the
    grants of their own credentials."""


class RoleRequirement(AccessRequirement):
    """A dependency admitting callers that hold at least one of ``roles``; see :func:`require_roles`."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*self.roles):
            raise role_refusal(self.roles)
        return principal

    def __repr__(self) -> str:
        return f"require_roles({', '.join(sorted(self.roles))})"


def role_refusal(roles: Iterable[Role]) -> Forbidden:
    """The 403 a caller without any of ``roles`` gets: raise it where a route's rule depends on the object
    (an appeal of an age decision is child protection's) to answer exactly as a route it may not use."""
    return Forbidden(f"this action needs one of the roles: {', '.join(sorted(roles))}")


def require_roles(*roles: Role) -> RoleRequirement:
    """A dependency giving the caller's Principal if they hold any of ``roles``, else 403 (401 if anonymous).

    Use it as ``Annotated[Principal, Depends(require_roles(Role.X))]`` in a route's parameters, or in
    ``dependencies=[Depends(...)]`` of a route or router.
    """
    if not roles:
        # An empty list would admit nobody; name the roles, or every role if any caller will do.
        raise ValueError("require_roles needs at least one role")
    return RoleRequirement(frozenset(roles))


def public_route() -> None:
    """Marks a route as deliberately open to anonymous callers: ``dependencies=[Depends(public_route)]``."""
