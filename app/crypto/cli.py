"""`flask keys status|rotate|reindex|retire`: key management with progress bars, safe to re-run."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from app import audit
from app.crypto import KeyFileError, management
from app.extensions import db

keys = click.Group("keys", help="Key status, KEK rotation and blind-index rebuild.")


def _bar_starter(label: str):
    """Start a progress bar for `total` items and return the function that advances it."""
    holder = {}

    def start(total: int):
        bar = click.progressbar(length=max(total, 1), label=label, show_pos=True)
        bar.__enter__()
        holder["bar"] = bar
        return bar.update

    return start, holder


@keys.command("status")
def status_command():
    """Key ids, which is active, and how many data keys or digests each one serves."""
    report = management.status(current_app.extensions["diemtua.keyring"])
    click.echo(_("Key-encryption keys (KEK):"))
    for kid, count in report.keks.items():
        mark = "*" if kid == report.active_kek else " "
        fp = report.fingerprints.get(kid, _("not in the key file"))
        click.echo(
            f" {mark} {kid:4} {fp:24} " + ngettext("%(num)d data key", "%(num)d data keys", count)
        )
    click.echo(_("Blind-index keys:"))
    for kid, count in report.index_keys.items():
        mark = "*" if kid == report.active_index else " "
        click.echo(f" {mark} {kid:4} " + ngettext("%(num)d digest", "%(num)d digests", count))
    click.echo(_("Destroyed data keys (erased records): %(n)d", n=report.destroyed))


def _run(operation, label: str, action: str):
    start, holder = _bar_starter(label)
    began = time.perf_counter()
    try:
        ring, retired = operation(current_app.config["KEY_FILE"], start=start)
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from exc
    if "bar" in holder:
        holder["bar"].__exit__(None, None, None)
    audit.record(action, detail=",".join(sorted(retired)) or None)
    db.session.commit()
    click.echo(
        _(
            "Done in %(s).1f s. Active keys: %(kek)s, %(index)s. Retired: %(old)s.",
            s=time.perf_counter() - began,
            kek=ring.active_kek_id,
            index=ring.active_index_id,
            old=", ".join(sorted(retired)) or "-",
        )
    )
    click.echo(_("Back up the key file now, apart from the database backups."))


@keys.command("rotate")
def rotate_command():
    """Make a new active KEK and re-wrap every data key under it (no field is re-encrypted)."""
    _run(management.rotate, _("Re-wrapping data keys"), "keys_rotated")


@keys.command("retire")
def retire_command():
    """After a rotation or a rebuild and a restart of every worker: remove the old keys."""
    _run(management.retire, _("Re-wrapping data keys"), "keys_retired")


@keys.command("reindex")
def reindex_command():
    """Make a new blind-index key and rebuild every digest (the old key stays until retire)."""
    _run(management.reindex, _("Rebuilding blind indexes"), "keys_reindexed")
