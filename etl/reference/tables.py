"""The compact text form of the project's own reference tables: `{group: "KEY:Name|KEY:Name|..."}`."""

from __future__ import annotations


def parse_grouped(blocks: dict[str, str], what: str) -> dict[str, tuple[str, str]]:
    """`{group: "K:name|K:name"}` -> `{K: (name, group)}`; a key listed twice is an error in the table."""
    table: dict[str, tuple[str, str]] = {}
    for group, block in blocks.items():
        for item in block.replace("\n", "").split("|"):
            key, name = item.split(":", 1)
            if key in table:
                raise ValueError(f"{what} {key} listed twice")
            table[key] = (name, group)
    return table
