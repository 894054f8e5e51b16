"""``ddr audit ...``: verify, checkpoint, export and replay the platform's history (read-only rights)."""

from __future__ import annotations

import typer

audit_app = typer.Typer(
    help="Verify, checkpoint, export and replay the platform's history.", no_args_is_help=True
)
