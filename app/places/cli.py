"""`flask places load`: put the official list of provinces and communes into the database."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from app.places import services

places = click.Group("places", help="The official list of provinces and communes.")


@places.command("load")
@click.option("--quiet", is_flag=True, help="Print nothing unless something changed.")
def load_command(quiet):
    """Add or update the 34 provinces and 3,321 communes; safe to run again at any time."""
    result = services.load_places()
    if quiet and not (result.added or result.updated):
        return
    click.echo(
        _(
            "Places: %(added)d added, %(updated)d updated, %(unchanged)d already up to date.",
            added=result.added,
            updated=result.updated,
            unchanged=result.unchanged,
        )
    )
