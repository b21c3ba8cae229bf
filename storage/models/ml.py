"""Trained churn models: each version with its window, features, metrics and pickled pipeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, LargeBinary
from sqlmodel import Field, SQLModel


class ModelVersion(SQLModel, table=True):
    __tablename__ = "model_versions"

    version: str = Field(primary_key=True, max_length=64)
    kind: str = Field(default="churn", max_length=32)
    algorithm: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=DateTime())  # naive UTC
    horizon_days: int
    train_from: dt.date | None = None
    train_to: dt.date | None = None
    validation_from: dt.date | None = None
    validation_to: dt.date | None = None
    features: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    active: bool = False
    promotion_note: str | None = None
    blob: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
