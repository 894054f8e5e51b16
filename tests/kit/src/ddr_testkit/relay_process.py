"""A relay alone in its own process, for the crash tests: ``python -m ddr_testkit.relay_process``.

Arguments: store URL, bootstrap servers, service name, and ``--drain`` to exit once the outbox is empty.
"""

from __future__ import annotations

import asyncio
import sys

from ddr_runtime.db import create_engine
from ddr_runtime.messaging.broker import ConfluentSender
from ddr_runtime.messaging.relay import OutboxRelay


async def main(url: str, bootstrap: str, service: str, drain: bool) -> None:
    engine = create_engine(url)
    relay = OutboxRelay(
        engine, ConfluentSender(bootstrap, client_id=f"{service}-relay"), service=service, batch_size=200
    )
    try:
        if drain:
            await relay.drain()
        else:
            await relay.run(asyncio.Event())
    finally:
        await relay.close()
        await engine.dispose()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    asyncio.run(main(arguments[0], arguments[1], arguments[2], "--drain" in arguments))
