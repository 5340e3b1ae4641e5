"""`flask telephony purge`: housekeeping for screen pops, run from cron."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from app.telephony import pops

telephony = click.Group("telephony", help="Phone lines and screen pops.")


@telephony.command("purge")
def purge_command():
    """Forget the numbers of expired screen pops and delete those expired over a day ago."""
    forgotten, deleted = pops.purge_pops()
    click.echo(
        _(
            "Screen pops: %(forgotten)d expired number(s) forgotten, %(deleted)d old pop(s) "
            "deleted.",
            forgotten=forgotten,
            deleted=deleted,
        )
    )
