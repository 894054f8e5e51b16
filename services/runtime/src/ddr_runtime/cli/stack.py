"""``ddr stack up | down | status | logs``."""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ddr_runtime.config import project_root
from ddr_runtime.stack.runner import Stack, Store, docker_available, installed_services

stack_app = typer.Typer(help="Run the whole platform on this machine.", no_args_is_help=True)
console = Console()


def _use_compose(docker: bool | None) -> bool:
    return docker if docker is not None else docker_available()


def _compose(*args: str) -> None:
    subprocess.run(["docker", "compose", *args], cwd=project_root(), check=True)


@stack_app.command()
def up(
    store: Annotated[str, typer.Option(help="sqlite (embedded files under var/) or postgres.")] = "sqlite",
    docker: Annotated[
        bool | None, typer.Option("--docker/--native", help="Default: Compose if Docker answers.")
    ] = None,
) -> None:
    """Start Kafka, the stores and every installed service; wait until each is ready."""
    if store not in ("sqlite", "postgres"):
        raise typer.BadParameter("sqlite or postgres", param_hint="--store")
    chosen: Store = "postgres" if store == "postgres" else "sqlite"
    if _use_compose(docker):
        _compose("up", "-d", "--build", "--wait")
        return
    stack = Stack()
    with console.status("starting Kafka (KRaft, single node)…"):
        bootstrap = stack.start_kafka()
    console.print(f"[green]kafka[/green] ready on {bootstrap}, topics created")
    if chosen == "postgres":
        with console.status("starting PostgreSQL…"):
            stack.start_postgres()
        console.print("[green]postgres[/green] ready, one database per service")
    else:
        console.print(f"[green]stores[/green]: SQLite files under {stack.var / 'stores'}")
    stack.remember(chosen)
    failed: list[str] = []
    stack.start_keys(chosen)
    with console.status("waiting for the key service…"):
        keys_ready = stack.wait_ready(stack.keys_process)
    if not keys_ready:
        console.print(f"[red]keys[/red] did not become ready; see {stack.log_path('keys')}")
        raise typer.Exit(1)
    stack.provision_credentials(chosen)
    console.print(
        f"[green]keys[/green] ready on http://127.0.0.1:{stack.keys_process.port}, a credential per service"
    )
    for service in installed_services():
        stack.start_service(service, chosen)
        with console.status(f"waiting for {service.name}…"):
            ready = stack.wait_ready(service)
        if ready:
            console.print(f"[green]{service.name}[/green] ready on http://127.0.0.1:{service.port}")
        else:
            failed.append(service.name)
            console.print(
                f"[red]{service.name}[/red] did not become ready; see {stack.log_path(service.name)}"
            )
    if not installed_services():
        console.print("no service packages installed yet: Kafka and the stores are ready for them")
    if failed:
        raise typer.Exit(1)


@stack_app.command()
def down(
    docker: Annotated[bool | None, typer.Option("--docker/--native")] = None,
) -> None:
    """Stop every service, then the stores, then Kafka."""
    if _use_compose(docker):
        _compose("down")
        return
    stopped = Stack().stop_all()
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@stack_app.command()
def status() -> None:
    """What is running, and where."""
    table = Table("component", "state", "where")
    for component in Stack().status():
        table.add_row(
            component.name, "[green]running[/green]" if component.running else "stopped", component.detail
        )
    console.print(table)


@stack_app.command()
def logs(
    name: Annotated[str, typer.Argument(help="kafka, postgres or a service name.")],
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 100,
) -> None:
    """Show a component's log."""
    path = Stack().log_path(name)
    if not path.exists():
        console.print(f"no log at {path}")
        raise typer.Exit(1)
    subprocess.run(["tail", "-n", str(lines), *(["-f"] if follow else []), str(path)], check=False)
