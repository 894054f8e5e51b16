"""``ddr``: one command for operators, developers and auditors.

Services plug their own subcommands in through the ``ddr.commands`` entry-point group (a typer app each), and
commands of ``ddr audit`` through ``ddr.audit.commands`` (a function each), so the runtime never imports a service.
"""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import entry_points
from typing import Annotated

import typer
from rich.console import Console

from ddr_runtime.auth.issuer import DevelopmentOnlyError, DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.cli.audit import audit_app
from ddr_runtime.cli.keys import keys_app
from ddr_runtime.cli.read_model import read_model_app
from ddr_runtime.cli.stack import stack_app
from ddr_runtime.config import KafkaSettings, Settings

app = typer.Typer(name="ddr", help="The DDR platform's command line.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics of the platform (created explicitly, never auto-created).")
app.add_typer(stack_app, name="stack")
app.add_typer(audit_app, name="audit")
app.add_typer(topics_app, name="topics")
app.add_typer(read_model_app, name="read-model")
app.add_typer(keys_app, name="keys")
console = Console(stderr=True)


@app.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="A role to grant (repeatable).")],
    subject: Annotated[str, typer.Option(help="The user id the token stands for.")] = "dev-user",
    movement: Annotated[str | None, typer.Option(help="Movement code, for a movement liaison.")] = None,
    partner: Annotated[str | None, typer.Option(help="Partner id, for a CVR partner.")] = None,
    region: Annotated[
        list[str] | None, typer.Option(help="Limit the remit to a region (repeatable).")
    ] = None,
    hours: Annotated[float, typer.Option(help="Validity in hours.")] = 8.0,
) -> None:
    """Print a development bearer token (only with DDR_ENVIRONMENT=development)."""
    try:
        issuer = DevelopmentTokenIssuer.from_settings(Settings())
    except (ValueError, DevelopmentOnlyError):
        console.print(
            "[red]ddr token issues development tokens only: it runs with DDR_ENVIRONMENT=development "
            "(make sets it); a deployment's tokens come from its identity provider[/red]"
        )
        raise typer.Exit(2) from None
    try:
        issued = issuer.issue(
            subject=subject,
            roles=role,
            movement=movement,
            partner=partner,
            regions=region or (),
            ttl=timedelta(hours=hours),
        )
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    typer.echo(issued)


@topics_app.command("create")
def create_topics() -> None:
    """Create every service's event and dead-letter topic that does not exist yet."""
    from ddr_runtime.messaging.topics import ensure_topics, platform_topics

    settings = KafkaSettings()
    created = ensure_topics(
        settings.kafka_bootstrap_servers,
        platform_topics(settings.kafka_partitions, settings.kafka_dlq_partitions, settings.topic_namespace),
    )
    console.print(f"created {len(created)} topic(s): {', '.join(created) or 'none missing'}")


def main() -> None:
    """Entry point of the ``ddr`` script: the runtime's commands plus every installed service's."""
    for plugin in entry_points(group="ddr.commands"):
        app.add_typer(plugin.load(), name=plugin.name)
    for plugin in entry_points(group="ddr.audit.commands"):
        audit_app.command(plugin.name)(plugin.load())
    app()
