"""Schemathesis against a service's OpenAPI document, in process (ASGI), once per caller.

    failures = fuzz_openapi(build_app(settings, token_verifier=verifier), tokens={"officer": token, ...})
    assert not failures, "\\n".join(map(str, failures))

Every operation of the document gets generated requests (valid and not) from each caller; each answer must
not be a server error, must have a status, content type, headers and body the document declares. The app's
lifespan is started by schemathesis in its own event loop, so build the app for this test alone (do not share
it with clients of the test's loop), and nothing else in the test may have used its engines.

A service binds its test with :func:`fuzz_test` (or calls :func:`fuzz_service` with the ``service_env``
fixture)::

    test_cvr_answers_every_generated_request_as_its_document_says = fuzz_test("cvr", build_app, CALLERS)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_testkit.services import ServiceEnv

Callers = Mapping[Role, Mapping[str, Any]]
"""The roles a fuzz run calls as, each with its claims (movement, partner, regions)."""


@dataclass(frozen=True)
class FuzzFailure:
    operation: str
    caller: str
    detail: str

    def __str__(self) -> str:
        return f"{self.operation} as {self.caller}: {self.detail}"


def fuzz_openapi(
    app: FastAPI,
    tokens: Mapping[str, str | None],
    *,
    max_examples: int = 20,
    operations: tuple[str, ...] = (),
) -> list[FuzzFailure]:
    """Failures of schemathesis' conformance checks, per operation and caller (``None``: no token).

    ``operations`` limits the run to operations whose label (``GET /people/{person_id}``) is listed.
    """
    import hypothesis
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Err
    from schemathesis.python.asgi import shutdown_lifespans
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks: list[Any] = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    settings = hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    failures: list[FuzzFailure] = []
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                failures.append(
                    FuzzFailure("(document)", "-", f"an operation cannot be read: {result.err()}")
                )
                continue
            operation = result.ok()
            if operations and operation.label not in operations:
                continue
            strategy = operation.as_strategy()
            for caller, token in tokens.items():
                failure = _fuzz_one(strategy, token, checks, settings)
                if failure is not None:
                    failures.append(FuzzFailure(operation.label, caller, failure))
    finally:
        shutdown_lifespans()
    return failures


def _fuzz_one(strategy: Any, token: str | None, checks: list[Any], settings: Any) -> str | None:
    """Run one operation's strategy as one caller; the failure's text, or None."""
    import hypothesis

    headers = {"Authorization": f"Bearer {token}"} if token else {}

    @settings  # type: ignore[untyped-decorator]
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks, headers=headers)

    try:
        run()
    except (AssertionError, BaseExceptionGroup) as error:
        return str(error)[:3000]
    return None


def service_tokens(issuer: DevelopmentTokenIssuer, callers: Callers) -> dict[str, str | None]:
    """A token per role of ``callers`` (with its claims: movement, partner, regions), named after the role, and
    ``anonymous`` without one."""
    tokens: dict[str, str | None] = {"anonymous": None}
    for role, claims in callers.items():
        tokens[role.value] = issuer.issue(subject=role.value, roles=[role], **claims)
    return tokens


def fuzz_service(
    env: ServiceEnv,
    service: str,
    build_app: Callable[..., FastAPI],
    callers: Callers,
    *,
    max_examples: int = 8,
) -> list[FuzzFailure]:
    """:func:`fuzz_openapi` over ``service``'s app, built for this run on SQLite, as each of ``callers`` (a
    role and its claims) and anonymous."""
    app = build_app(env.sqlite_settings(service), token_verifier=env.token_verifier)
    return fuzz_openapi(app, service_tokens(env.issuer, callers), max_examples=max_examples)


def fuzz_test(
    service: str, build_app: Callable[..., FastAPI], callers: Callers, *, max_examples: int = 8
) -> Callable[[ServiceEnv], None]:
    """A service's schemathesis test (:func:`fuzz_service`), to bind to a name of its test module::

    test_cvr_answers_every_generated_request_as_its_document_says = fuzz_test("cvr", build_app, CALLERS)
    """

    def answers_every_generated_request_as_its_document_says(service_env: ServiceEnv) -> None:
        failures = fuzz_service(service_env, service, build_app, callers, max_examples=max_examples)

        assert failures == [], "\n\n".join(map(str, failures))

    return answers_every_generated_request_as_its_document_says
