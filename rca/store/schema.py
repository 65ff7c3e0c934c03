"""The store's schema, owned here and nowhere else, with ordered migrations.

Each migration is a list of SQL statements applied in one transaction; `schema_version` records
which have run. Opening a store applies the missing ones, so an older `.rca` folder upgrades
itself on first use by a newer `rca`.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: contacts, dimensions, history, quarantine, ingest log, embeddings, themes, runs, reports.
    [
        """CREATE TABLE contacts (
            contact_id     VARCHAR PRIMARY KEY,
            created_at     TIMESTAMPTZ NOT NULL,
            text           VARCHAR NOT NULL,      -- redacted display text
            text_raw       VARCHAR,               -- only when RCA_KEEP_RAW_TEXT is set
            text_norm      VARCHAR NOT NULL,      -- normalised for embedding
            text_hash      VARCHAR NOT NULL,      -- cache key for embeddings
            text_truncated BOOLEAN NOT NULL DEFAULT FALSE,
            customer_id    VARCHAR,
            channel        VARCHAR,
            is_escalation  BOOLEAN,
            handle_time_s  DOUBLE,
            resolution     VARCHAR,               -- redacted
            csat           DOUBLE,
            content_hash   VARCHAR NOT NULL,      -- decides unchanged vs updated on re-ingest
            source_file    VARCHAR,
            source_line    BIGINT,
            ingest_id      VARCHAR NOT NULL,
            ingested_at    TIMESTAMPTZ NOT NULL,
            updated_at     TIMESTAMPTZ NOT NULL
        )""",
        """CREATE TABLE contact_dimensions (
            contact_id VARCHAR NOT NULL,
            name       VARCHAR NOT NULL,
            value      VARCHAR
        )""",  # no key: DuckDB's ART index rejects delete+reinsert of one key in a transaction
        """CREATE TABLE contact_history (
            contact_id       VARCHAR NOT NULL,
            changed_at       TIMESTAMPTZ NOT NULL,
            ingest_id        VARCHAR NOT NULL,
            old_content_hash VARCHAR NOT NULL,
            new_content_hash VARCHAR NOT NULL,
            old_row          JSON                 -- the replaced values, redacted
        )""",
        """CREATE TABLE quarantine (
            file_sha256    VARCHAR NOT NULL,
            line           BIGINT NOT NULL,
            file           VARCHAR NOT NULL,
            raw            VARCHAR NOT NULL,      -- the source row as JSON (redacted)
            reason         VARCHAR NOT NULL,
            ingest_id      VARCHAR NOT NULL,
            quarantined_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (file_sha256, line)
        )""",
        """CREATE TABLE ingests (
            ingest_id   VARCHAR NOT NULL,
            file        VARCHAR NOT NULL,
            file_sha256 VARCHAR NOT NULL,
            encoding    VARCHAR,
            started_at  TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ NOT NULL,
            rows_read   BIGINT NOT NULL,
            inserted    BIGINT NOT NULL,
            updated     BIGINT NOT NULL,
            unchanged   BIGINT NOT NULL,
            quarantined BIGINT NOT NULL,
            notes       VARCHAR
        )""",
        """CREATE TABLE embeddings (
            text_hash  VARCHAR NOT NULL,
            model_id   VARCHAR NOT NULL,
            vector     FLOAT[] NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (text_hash, model_id)
        )""",
        """CREATE TABLE themes (
            model_version VARCHAR NOT NULL,
            theme_id      VARCHAR NOT NULL,
            label         VARCHAR NOT NULL,
            keywords      VARCHAR[],
            parent_group  VARCHAR,
            size          BIGINT NOT NULL,
            centroid      FLOAT[],
            representatives VARCHAR[],            -- contact ids, nearest the centre and diverse
            PRIMARY KEY (model_version, theme_id)
        )""",
        """CREATE TABLE theme_events (
            model_version VARCHAR NOT NULL,
            event         VARCHAR NOT NULL,       -- kept | merged | split | new | retired
            theme_id      VARCHAR NOT NULL,
            related_ids   VARCHAR[],
            overlap       DOUBLE,
            similarity    DOUBLE
        )""",
        """CREATE TABLE assignments (
            model_version VARCHAR NOT NULL,
            contact_id    VARCHAR NOT NULL,
            theme_id      VARCHAR,                -- NULL = unassigned
            similarity    DOUBLE,
            PRIMARY KEY (model_version, contact_id)
        )""",
        """CREATE TABLE models (
            model_version VARCHAR PRIMARY KEY,
            model_id      VARCHAR NOT NULL,       -- the encoder
            mlflow_run_id VARCHAR,
            registry_version VARCHAR,
            trained_at    TIMESTAMPTZ NOT NULL,
            n_themes      BIGINT NOT NULL,
            metrics       JSON,
            is_champion   BOOLEAN NOT NULL DEFAULT FALSE
        )""",
        """CREATE TABLE runs (
            run_id      VARCHAR PRIMARY KEY,
            command     VARCHAR NOT NULL,
            started_at  TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            status      VARCHAR NOT NULL,
            details     JSON
        )""",
        """CREATE TABLE reports_sent (
            period          VARCHAR NOT NULL,
            recipients_hash VARCHAR NOT NULL,
            sent_at         TIMESTAMPTZ NOT NULL,
            status          VARCHAR NOT NULL,
            message_id      VARCHAR,
            error           VARCHAR
        )""",
    ],
    # 2 (issue 22): which extra columns are dimensions and why the others are not; the
    # registry a model's version number belongs to, so store and registry can be checked.
    [
        """CREATE TABLE dimensions (
            name       VARCHAR PRIMARY KEY,
            kept       BOOLEAN NOT NULL,
            reason     VARCHAR,                 -- why it was set aside (NULL when kept)
            n_rows     BIGINT NOT NULL,
            n_values   BIGINT NOT NULL,
            mean_chars DOUBLE NOT NULL,
            decided_at TIMESTAMPTZ NOT NULL
        )""",
        "ALTER TABLE models ADD COLUMN registry_uri VARCHAR",
    ],
    # 3: conversations (issue 18) and who handled a contact (issue 20), as contact columns.
    [
        *(
            f"ALTER TABLE contacts ADD COLUMN {name} VARCHAR"
            for name in ("conversation_id", "in_reply_to", "vendor", "site", "team", "agent_id")
        ),
    ],
    # 4: SOP changes (issue 21) and their audit trail; themes by stable id.
    [
        """CREATE TABLE sop_changes (
            change_id    VARCHAR PRIMARY KEY,
            theme_id     VARCHAR NOT NULL,
            effective_at TIMESTAMPTZ NOT NULL,
            title        VARCHAR NOT NULL,
            description  VARCHAR,
            link         VARCHAR,
            author       VARCHAR,
            scope        JSON,                    -- {market, channel, vendor}: optional
            status       VARCHAR NOT NULL,        -- active | retired
            created_at   TIMESTAMPTZ NOT NULL
        )""",
        """CREATE TABLE sop_audit (
            change_id VARCHAR NOT NULL,
            changed_at TIMESTAMPTZ NOT NULL,
            actor     VARCHAR,
            action    VARCHAR NOT NULL,           -- added | retired
            details   JSON
        )""",
    ],
    # 5: the company's own messages in mixed exports (issue 18): conversation context, never
    # contacts. No key: DuckDB rejects delete+reinsert of one key in a transaction.
    [
        """CREATE TABLE context_messages (
            message_id      VARCHAR NOT NULL,
            created_at      TIMESTAMPTZ NOT NULL,
            customer_id     VARCHAR,                -- the author as exported (a brand account)
            conversation_id VARCHAR,
            in_reply_to     VARCHAR,
            text            VARCHAR NOT NULL,       -- redacted
            source_file     VARCHAR,
            source_line     BIGINT,
            ingest_id       VARCHAR NOT NULL,
            ingested_at     TIMESTAMPTZ NOT NULL
        )""",
    ],
    # 6: the taxonomy people correct (issue 19): the edit log, each model's contacts whose
    # curated theme differs from the fitted one, and what a refit proposes for curated themes.
    [
        """CREATE TABLE taxonomy_edits (
            seq           BIGINT PRIMARY KEY,
            edit_id       VARCHAR NOT NULL,
            action        VARCHAR NOT NULL,       -- rename | merge | split | accept | ...
            theme_id      VARCHAR NOT NULL,
            params        JSON,
            new_ids       VARCHAR[],              -- theme ids this edit issued (never reused)
            actor         VARCHAR,
            reason        VARCHAR,
            created_at    TIMESTAMPTZ NOT NULL,
            model_version VARCHAR                 -- the champion when the edit was made
        )""",
        """CREATE TABLE taxonomy_members (
            model_version VARCHAR NOT NULL,
            contact_id    VARCHAR NOT NULL,
            theme_id      VARCHAR NOT NULL
        )""",  # no key: rewritten (delete + insert) in one transaction
        """CREATE TABLE taxonomy_proposals (
            model_version VARCHAR NOT NULL,
            theme_id      VARCHAR NOT NULL,
            kind          VARCHAR NOT NULL,       -- split | merged | retired
            message       VARCHAR NOT NULL,
            related_ids   VARCHAR[],
            created_at    TIMESTAMPTZ NOT NULL
        )""",
    ],
    # 7: an SOP change covers several themes or a parent group (issue 21). `theme_id` stays
    # the first (primary) one; rows from before read `theme_ids` as [theme_id].
    [
        "ALTER TABLE sop_changes ADD COLUMN theme_ids VARCHAR[]",
        "ALTER TABLE sop_changes ADD COLUMN theme_group VARCHAR",  # the parent group it named
        "UPDATE sop_changes SET theme_ids = [theme_id] WHERE theme_ids IS NULL",
    ],
    # 8: a theme's note from the fit (a template campaign, one company: issue 19), shown where
    # a manager reads the theme; NULL for themes with nothing to say and for older fits.
    ["ALTER TABLE themes ADD COLUMN description VARCHAR"],
    # 9: the granularity decision a fit used (rca.cluster.granularity: rule, smallest theme
    # size, rows, the version that chose it), so a refit can keep it; NULL for older fits.
    ["ALTER TABLE models ADD COLUMN granularity JSON"],
    # 10: the window of contacts a fit clustered, so a refit can tell a theme carved out of
    # contacts the previous fit saw from one of contacts that arrived since; NULL for older fits.
    [
        "ALTER TABLE models ADD COLUMN fit_since TIMESTAMPTZ",
        "ALTER TABLE models ADD COLUMN fit_until TIMESTAMPTZ",
    ],
    # 11: the contacts of a theme a refit carved out and held (a `new_theme` proposal), so a
    # person can preview the refit's own cut as a split; NULL for other kinds and older rows.
    ["ALTER TABLE taxonomy_proposals ADD COLUMN members VARCHAR[]"],
    # 12: a carved theme's name and keywords, so the preview of the proposed cut names the part
    # as the proposal did; NULL for other kinds and older rows (the preview names those parts).
    [
        "ALTER TABLE taxonomy_proposals ADD COLUMN label VARCHAR",
        "ALTER TABLE taxonomy_proposals ADD COLUMN keywords VARCHAR[]",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)
