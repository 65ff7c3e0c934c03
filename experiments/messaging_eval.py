"""Repeat detection on the demo's messaging channel, with and without thread ids (issue 18).

Generates the messaging stream (`rca.demo.messaging`), writes it as a social export, and runs
the product as a user would: `rca ingest --mapping social`, `rca fit`, then the repeat
analysis every report reads (`load_repeat_analysis`). Twice: once with the export's thread ids
and replies mapped (half the conversations have them; the rest fall to the session rule), and
once with a mapping that drops both, so every conversation is found by the session rule alone.

    python -m experiments.messaging_eval --conversations 2000 --out /tmp/messaging-eval

Prints, per run: precision and recall of repeats against the truth (a repeat opens a
conversation about an intent the customer raised in an earlier conversation at most 7 days
before), continuation turns counted as repeats (must be 0), small talk and contest messages
counted as repeats, the flagged accounts, and whether any theme label is a handle.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd

from rca.demo.corpus import load_corpus
from rca.demo.messaging import generate_messaging
from rca.ingest.pipeline import ingest_paths
from rca.jobs.fit import fit_themes
from rca.queries.repeat_drivers import load_repeat_analysis
from rca.repeats.detect import REPEAT
from rca.settings import get_settings

DATA = Path(__file__).resolve().parent.parent / "data"
NO_THREADS = """
[fields]
contact_id = "tweet_id"
customer_id = "author_id"
created_at = { column = "created_at", format = "%a %b %d %H:%M:%S %z %Y" }
text = "text"
direction = "inbound"
channel = { value = "social" }

[options]
drop = ["response_tweet_id", "in_response_to_tweet_id", "thread_id"]
"""


def run(export: Path, mapping: str, home: Path, truth: pd.DataFrame) -> dict:
    shutil.rmtree(home, ignore_errors=True)
    os.environ["RCA_HOME"] = str(home)
    settings = get_settings(home)
    started = time.perf_counter()
    ingest_paths([str(export)], settings, mapping_spec=mapping)
    fit = fit_themes(settings, say=print)
    analysis = load_repeat_analysis(settings)
    marked = analysis.marked.merge(truth, on="contact_id", how="inner")
    found = marked["repeat_status"] == REPEAT
    actual = marked["is_repeat"].astype(bool)
    hits = int((found & actual).sum())
    labels = [str(label) for label in fit.catalog.labels]
    return {
        "messages": len(marked),
        "true_repeats": int(actual.sum()),
        "found": int(found.sum()),
        "precision": round(hits / max(int(found.sum()), 1), 4),
        "recall": round(hits / max(int(actual.sum()), 1), 4),
        "continuation_turns_counted_as_repeats": int((found & (marked["turn"] > 0)).sum()),
        "small_talk_or_contest_as_repeats": int(
            (found & marked["kind"].isin(["small_talk", "contest"])).sum()
        ),
        "statuses": marked["repeat_status"].value_counts().to_dict(),
        "flagged_accounts": analysis.marked.attrs.get("flagged_accounts", []),
        "themes": len(labels),
        "labels_with_handle": [label for label in labels if "@" in label],
        "labels_naming_a_brand": [
            label
            for label in labels
            if any(b.lower() in label.lower() for b in ("neobank", "payfast", "cardco"))
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/messaging-eval"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stream = generate_messaging(
        load_corpus(DATA),
        start=pd.Timestamp("2026-08-03", tz="UTC"),
        end=pd.Timestamp("2026-11-23", tz="UTC"),
        conversations=args.conversations,
        seed=args.seed,
    )
    export = args.out / "social.csv"
    stream.messages.to_csv(export, index=False)
    (args.out / "no_threads.toml").write_text(NO_THREADS, encoding="utf-8")
    results = {"manifest": stream.manifest}
    results["with_thread_ids"] = run(export, "social", args.out / "home-threads", stream.truth)
    results["session_rule_only"] = run(
        export, str(args.out / "no_threads.toml"), args.out / "home-session", stream.truth
    )
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
