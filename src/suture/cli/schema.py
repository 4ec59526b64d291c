"""`suture schema`: the JSON Schema of suture.yml, for editors and validators."""

from __future__ import annotations

import json

import typer

from suture.config import json_schema


def register(app: typer.Typer) -> None:
    """Add the `schema` command."""
    app.command(
        "schema",
        help="Print the JSON Schema of suture.yml.\n\nExample (editor support):\n\n"
        "  suture schema > suture.schema.json",
    )(schema_command)


def schema_command() -> None:
    """Print the JSON Schema."""
    typer.echo(json.dumps(json_schema(), indent=2))
