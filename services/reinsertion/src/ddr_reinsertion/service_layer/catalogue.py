"""Reading the package catalogue back as domain terms."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.reinsertion import PackageVersionPublished
from ddr_reinsertion.adapters.tables import packages
from ddr_reinsertion.domain.catalogue import PackageTerms, Tranche
from ddr_reinsertion.domain.errors import RuleViolated, UnknownRecord


def terms_of(event: PackageVersionPublished) -> PackageTerms:
    return PackageTerms(
        package_id=event.package_id,
        package_version=event.package_version,
        kind=event.kind,
        title=event.title,
        caseloads=tuple(event.caseloads),
        currency=event.currency,
        base_amount=event.base_amount,
        category_supplements=dict(event.category_supplements),
        rank_supplements=dict(event.rank_supplements),
        per_dependant_amount=event.per_dependant_amount,
        max_dependants=event.max_dependants,
        tranches=tuple(
            Tranche(t.number, t.share_percent, t.due_after_days, t.condition) for t in event.tranches
        ),
        follow_up_after_days=tuple(event.follow_up_after_days),
        effective_on=event.effective_on,
    )


async def package_terms(
    conn: AsyncConnection, package_id: str, version: int | None, on: date
) -> PackageTerms:
    """Version ``version`` of the package, or the latest in force on ``on``."""
    query = select(packages.c.terms, packages.c.effective_on).where(packages.c.package_id == package_id)
    if version is not None:
        query = query.where(packages.c.package_version == version)
    rows = (await conn.execute(query.order_by(packages.c.package_version.desc()))).all()
    if not rows:
        raise UnknownRecord("package", package_id if version is None else f"{package_id} v{version}")
    in_force = [row for row in rows if row.effective_on <= on]
    if not in_force:
        raise RuleViolated(
            "package_not_in_force", f"package {package_id} is not in force on {on.isoformat()}"
        )
    return terms_of(PackageVersionPublished.model_validate(json.loads(in_force[0].terms)))
