"""A person's path as a terminal table: readable in 80 columns, every event name whole; ``wide`` shows more.

In 80 columns the table has four columns (date, step, by whom, why); the step's service and status go on a
second line under its name, and long actors and reasons wrap. An event name is never cut or folded: its column
is as wide as the longest name. ``wide`` adds the time of day, the recording time, the service, the status and
the event that caused each step, one line per step, at the table's natural width.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

NARROW = 80
"""The terminal width the default table is made for."""
DATE_WIDTH = 10
MIN_TEXT_WIDTH = 8


def _name(step: Mapping[str, Any]) -> str:
    return str(step["type"]).rsplit(".", 1)[-1]


def _status(step: Mapping[str, Any]) -> str:
    summary = step.get("summary") or {}
    return str(summary.get("status") or summary.get("track") or "")


def _why(step: Mapping[str, Any]) -> str:
    return " / ".join(str(x) for x in (step.get("reason_code"), step.get("rule_version")) if x)


def _title(path: Mapping[str, Any]) -> str:
    where = ", ".join(str(x) for x in (path.get("movement"), path.get("region")) if x)
    return f"Path of {path['person_id']}" + (f" ({where})" if where else "") + f": {path['stage']}"


def path_table(path: Mapping[str, Any], *, wide: bool = False) -> Table:
    """The steps of ``path`` (a ``GET /paths/{id}`` answer); a stage-only answer shows its stages."""
    steps = path.get("steps")
    if steps is None:
        return _stages_table(path)
    return _wide_table(path, steps) if wide else _narrow_table(path, steps)


def _narrow_table(path: Mapping[str, Any], steps: list[Mapping[str, Any]]) -> Table:
    longest = max((len(_name(s)) for s in steps), default=4)
    # What is left of 80 columns after the borders and padding (13), the date (10) and the longest name.
    rest = max(NARROW - 13 - DATE_WIDTH - longest, 2 * MIN_TEXT_WIDTH)
    table = Table(title=_title(path), title_justify="left")
    table.add_column("date", no_wrap=True, width=DATE_WIDTH)
    table.add_column("step", width=longest, overflow="fold")
    table.add_column("by", overflow="fold", width=rest // 2)
    table.add_column("why", overflow="fold", width=rest - rest // 2)
    for step in steps:
        detail = " · ".join(x for x in (str(step["service"]), _status(step)) if x)
        cell = Text(_name(step))
        cell.append("\n" + detail, style="dim")
        table.add_row(str(step["valid_from"])[:10], cell, str(step["actor"]), _why(step))
    return table


def _wide_table(path: Mapping[str, Any], steps: list[Mapping[str, Any]]) -> Table:
    table = Table(title=_title(path), title_justify="left")
    for column in ("business time", "recorded", "service", "step", "status", "by", "why / rule", "caused by"):
        table.add_column(column, no_wrap=True)
    for step in steps:
        table.add_row(
            _minute(step["valid_from"]),
            _minute(step["recorded_at"]),
            str(step["service"]),
            _name(step),
            _status(step),
            str(step["actor"]),
            _why(step),
            str(step.get("caused_by") or ""),
        )
    return table


def _stages_table(path: Mapping[str, Any]) -> Table:
    table = Table(title=_title(path), title_justify="left")
    table.add_column("stage", overflow="fold")
    table.add_column("since", no_wrap=True)
    table.add_column("days", justify="right", no_wrap=True)
    for stage in path.get("stages", []):
        table.add_row(str(stage["stage"]), str(stage["since"])[:10], f"{stage['days']:g}")
    return table


def _minute(moment: Any) -> str:
    return str(moment)[:16].replace("T", " ")
