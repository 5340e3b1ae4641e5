"""One administrative unit: a province or city, or a commune, ward or special zone in it."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Place(db.Model):
    """A unit of the post-1 July 2025 list (34 provinces, 3,321 communes), by its official code."""

    __tablename__ = "place"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # tinh, thanh_pho_trung_uong (level 1); xa, phuong, dac_khu (level 2)
    kind: Mapped[str] = mapped_column(String(24))
    province_code: Mapped[str | None] = mapped_column(String(8), index=True)
    codename: Mapped[str] = mapped_column(String(120))
