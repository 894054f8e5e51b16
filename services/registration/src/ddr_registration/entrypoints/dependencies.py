"""What a route is given besides its request: the command side (the desk) and the reads, as the bootstrap
wired them on the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_registration.service_layer.ports import Views


def registration_desk(request: Request) -> RegistrationDesk:
    desk: RegistrationDesk = request.app.state.registration
    return desk


def registration_views(request: Request) -> Views:
    views: Views = request.app.state.views
    return views


Desk = Annotated[RegistrationDesk, Depends(registration_desk)]
Reads = Annotated[Views, Depends(registration_views)]
