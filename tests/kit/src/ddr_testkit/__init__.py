"""The DDR platform's test kit: a pytest plugin, outside every production package."""
