"""The ``ddr`` command: the stack, development tokens, topics; services add their own subcommands."""
