"""What the routes are given, as ``Annotated`` aliases: the unit of work, the read side, the policy.

The bootstrap puts them on ``app.state``; the entry points never reach the adapters themselves.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from ddr_cvr.domain.policy import CvrPolicy
from ddr_cvr.service_layer.reads import CvrReads
from ddr_runtime.eventstore.ports import CommandRunner


def _unit(request: Request) -> CommandRunner:
    return cast(CommandRunner, request.app.state.cvr_unit)


def _reads(request: Request) -> CvrReads:
    return cast(CvrReads, request.app.state.cvr_reads)


def _policy(request: Request) -> CvrPolicy:
    return cast(CvrPolicy, request.app.state.cvr_policy)


Unit = Annotated[CommandRunner, Depends(_unit)]
Reads = Annotated[CvrReads, Depends(_reads)]
Policy = Annotated[CvrPolicy, Depends(_policy)]
