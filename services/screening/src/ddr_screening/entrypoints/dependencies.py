"""What a route gets from the app: the screening service the bootstrap wired."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from ddr_screening.service_layer.service import Screening


def _screening(request: Request) -> Screening:
    return cast(Screening, request.app.state.screening)


Service = Annotated[Screening, Depends(_screening)]
