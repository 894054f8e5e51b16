"""An authorisation test generated from an app's route table.

A service declares, for every route, what each role gets, on an object within its scope and on one outside
it (another movement, partner or region; a child's record; a medical record)::

    RULES = [
        Rule("GET /people/{person_id}", allowed={Role.CNDDR_OFFICER: 200, Role.MOVEMENT_LIAISON: 200},
             outside={(Role.MOVEMENT_LIAISON, "movement"): 404, (Role.CNDDR_OFFICER, "child"): 404}),
        ...
    ]

and a :class:`World` that makes those objects and says which claims put a caller inside a scope. Then

* :func:`uncovered_routes` (the first test) names every route of the app with no rule, and every rule
  naming a route the app does not have: a new route fails the test until someone decides who may call it;
* :func:`check_rules` (the second) expands the rules into one case per route x role (every role of the
  platform, and an anonymous caller) x scope, runs each through the app and returns every case whose answer
  differs from the declared status. Cases that must be refused run first, so a refused write that
  nevertheless changed something shows up in the cases after it.

A service binds both tests with :func:`authorisation_tests` (its app served on SQLite, the runtime's own
routes' rules added), and writes its world as a :class:`ServiceWorld`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_testkit.services import ServiceEnv, service_client

Dimension = Literal["movement", "partner", "region", "child", "medical"]
Side = Literal["own", "other"]
ANONYMOUS: Literal["anonymous"] = "anonymous"
Params = dict[str, Any]
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Rule:
    """What every role gets on one route (``"METHOD /path/{param}"``, as the app declares it).

    ``allowed``: the status of each role allowed, on an object within its scope; every other role gets
    ``denied``, an anonymous caller ``anonymous``. ``outside``: for (role, dimension), the status on an object
    outside the role's scope (usually the same 404 as a missing one). ``body``: the request body, built from
    the object's parameters and a fresh token (so a write case never collides with another). ``fresh``: make
    a new object for every case (for writes that change or destroy it).
    """

    route: str
    allowed: Mapping[Role, int] = field(default_factory=dict)
    denied: int = 403
    anonymous: int = 401
    outside: Mapping[tuple[Role, Dimension], int] = field(default_factory=dict)
    body: Callable[[Params, str], Any] | None = None
    query: Callable[[Params], Mapping[str, str]] | None = None
    fresh: bool = False

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.route.split(" ", 1)[1]


@dataclass(frozen=True)
class Case:
    rule: Rule
    caller: Role | Literal["anonymous"]
    dimension: Dimension | None
    side: Side
    status: int

    def __str__(self) -> str:
        scope = f" on {self.side} {self.dimension}" if self.dimension else ""
        return f"{self.rule.route} as {self.caller}{scope}: expected {self.status}"


@dataclass(frozen=True)
class Mismatch:
    case: Case
    status: int
    body: str

    def __str__(self) -> str:
        return f"{self.case}, got {self.status} {self.body[:160]}"


class World:
    """The objects the cases act on, and the claims that put each caller in scope. A service subclasses it.

    ``claims(role)`` gives the token claims of a caller holding ``role`` (its movement, partner, regions);
    ``params(case)`` gives the path, query and body parameters of an object for the case: within the
    caller's scope for ``case.dimension`` when ``case.side`` is ``own``, outside it when ``other`` (no
    dimension: the object an ordinary caller of that role works on), made anew when ``case.rule.fresh``.
    """

    def claims(self, role: Role) -> Params:
        return {}

    async def params(self, case: Case) -> Params:
        raise NotImplementedError


def public(route: str, status: int = 200) -> Rule:
    """A route every caller, anonymous included, gets ``status`` from."""
    return Rule(route, allowed=dict.fromkeys(Role, status), anonymous=status)


def runtime_rules(app: FastAPI) -> list[Rule]:
    """The rules of what the runtime adds to every service app (probes, metrics, the API's documents, the
    read-model rebuild, the store's signed checkpoint), for those of them this app serves."""
    operator = {Role.OPERATOR: 200}
    known = [
        public("GET /healthz"),
        public("GET /readyz"),
        public("GET /metrics"),
        Rule("GET /metrics/all", allowed=operator),
        public("GET /openapi.json"),
        public("GET /docs"),
        public("GET /docs/oauth2-redirect"),
        public("GET /redoc"),
        Rule("GET /read-model/rebuild", allowed={Role.OPERATOR: 200, Role.AUDITOR: 200}),
        Rule("POST /read-model/rebuild", allowed={Role.OPERATOR: 202}),
        Rule("POST /audit/checkpoints", allowed={Role.OPERATOR: 201, Role.AUDITOR: 201}),
        Rule("GET /reads/{person_id}", allowed={Role.AUDITOR: 200}),
    ]
    served = app_routes(app)
    return [rule for rule in known if rule.route in served]


def app_routes(app: FastAPI) -> set[str]:
    """Every ``METHOD /path`` the app serves (HEAD and OPTIONS aside)."""
    found: set[str] = set()
    for context in iter_route_contexts(app.routes):
        for method in context.methods or ():
            if method in _METHODS:
                found.add(f"{method} {context.path}")
    return found


def uncovered_routes(app: FastAPI, rules: Iterable[Rule]) -> list[str]:
    """Routes with no rule, and rules for routes the app does not have (both must be empty)."""
    served = app_routes(app)
    declared = [rule.route for rule in rules]
    missing = sorted(served - set(declared))
    stale = sorted(set(declared) - served)
    doubled = sorted({route for route in declared if declared.count(route) > 1})
    return (
        [f"no rule for {route}" for route in missing]
        + [f"a rule for {route}, which the app does not serve" for route in stale]
        + [f"two rules for {route}" for route in doubled]
    )


def expand(rules: Iterable[Rule], roles: Iterable[Role] = tuple(Role)) -> list[Case]:
    """One case per route x role (and anonymous) x scope, refusals first."""
    every_role = list(roles)
    cases: list[Case] = []
    for rule in rules:
        cases.append(Case(rule, ANONYMOUS, None, "own", rule.anonymous))
        for role in every_role:
            cases.append(Case(rule, role, None, "own", rule.allowed.get(role, rule.denied)))
        for (role, dimension), status in rule.outside.items():
            cases.append(Case(rule, role, dimension, "own", rule.allowed.get(role, rule.denied)))
            cases.append(Case(rule, role, dimension, "other", status))
    return sorted(cases, key=lambda case: 0 if case.status >= 400 else 1)


async def check_rules(
    client: httpx.AsyncClient,
    issuer: DevelopmentTokenIssuer,
    world: World,
    rules: Sequence[Rule],
    *,
    roles: Iterable[Role] = tuple(Role),
    before: Callable[[Case], Awaitable[None]] | None = None,
) -> list[Mismatch]:
    """Run every case of ``rules`` through ``client``; the cases whose status differs from the rule's."""
    mismatches: list[Mismatch] = []
    for case in expand(rules, roles):
        if before is not None:
            await before(case)
        response = await _send(client, issuer, world, case)
        if response.status_code != case.status:
            mismatches.append(Mismatch(case, response.status_code, response.text))
    return mismatches


async def _send(
    client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer, world: World, case: Case
) -> httpx.Response:
    rule = case.rule
    params = await world.params(case)
    token = uuid.uuid4().hex[:12]
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(params[m.group(1)]), rule.path)
    headers: dict[str, str] = {}
    if case.caller != ANONYMOUS:
        role = Role(case.caller)
        claims = world.claims(role)
        headers["Authorization"] = "Bearer " + issuer.issue(
            subject=f"{role.value}-authz", roles=[role], **claims
        )
    body = rule.body(params, token) if rule.body is not None else None
    query = dict(rule.query(params)) if rule.query is not None else None
    return await client.request(rule.method, path, json=body, params=query, headers=headers)


# -- A service's authorisation test, assembled ---------------------------------------------------------------

BuildApp = Callable[..., FastAPI]
"""A service's ``build_app(settings, *, token_verifier=...)``."""


@dataclass
class Served:
    """A service's app, running, a client of it, and its settings."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings


class ServiceWorld(World):
    """A :class:`World` of a served app: ``CLAIMS`` gives each role's claims (none for a role not named);
    ``prepare`` (run once, before the first case) makes what every case shares; ``post`` writes as a role."""

    CLAIMS: ClassVar[Mapping[Role, Params]] = {}

    def __init__(self, served: Served, issuer: DevelopmentTokenIssuer) -> None:
        self.served = served
        self.app = served.app
        self.client = served.client
        self.settings = served.settings
        self.issuer = issuer
        self._prepared = False

    def claims(self, role: Role) -> Params:
        return dict(self.CLAIMS.get(role, {}))

    async def prepare(self) -> None:
        """Make what every case acts on (a service's world overrides it)."""

    async def prepared(self) -> None:
        if not self._prepared:
            await self.prepare()
            self._prepared = True

    async def post(
        self, path: str, body: Any, status: int, *roles: Role, headers: Mapping[str, str] | None = None
    ) -> Any:
        """POST ``body`` as a caller holding ``roles`` (no claims); its JSON answer, which must be ``status``."""
        token = self.issuer.issue(subject=f"{roles[0]}-world", roles=list(roles))
        answer = await self.client.post(
            path, json=body, headers={"Authorization": f"Bearer {token}", **(headers or {})}
        )
        assert answer.status_code == status, f"{path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None


@asynccontextmanager
async def served(env: ServiceEnv, service: str, build_app: BuildApp) -> AsyncIterator[Served]:
    """``service``'s app on SQLite (enough here: what is checked is who gets which answer, not how it is
    stored), running, with a client."""
    settings = env.sqlite_settings(service)
    app = build_app(settings, token_verifier=env.token_verifier)
    async with service_client(app, f"http://{service}") as client:
        yield Served(app, client, settings)


AuthorisationTest = Callable[[ServiceEnv], Awaitable[None]]


def authorisation_tests(
    service: str,
    build_app: BuildApp,
    rules: Sequence[Rule],
    world: Callable[[Served, DevelopmentTokenIssuer], World],
) -> tuple[AuthorisationTest, AuthorisationTest]:
    """A service's two authorisation tests, to bind to names of its test module::

        test_every_cvr_route_has_a_rule, test_every_role_gets_..._scope = authorisation_tests(
            "cvr", build_app, RULES, CvrWorld
        )

    The first fails on any route of the app (the runtime's included) without a rule, or a rule for none; the
    second runs every route x role (and anonymous) x scope on the running app and fails on each case whose
    answer differs from its rule's."""

    async def every_route_has_a_rule(service_env: ServiceEnv) -> None:
        app = build_app(service_env.sqlite_settings(service), token_verifier=service_env.token_verifier)

        assert uncovered_routes(app, [*rules, *runtime_rules(app)]) == []

    async def every_role_gets_the_declared_answer(service_env: ServiceEnv) -> None:
        issuer = service_env.issuer
        async with served(service_env, service, build_app) as running:
            every_rule = [*rules, *runtime_rules(running.app)]

            mismatches = await check_rules(running.client, issuer, world(running, issuer), every_rule)

        assert mismatches == [], "\n".join(map(str, mismatches))

    return every_route_has_a_rule, every_role_gets_the_declared_answer
