"""The real support texts behind the demo stream: Banking77 and Bitext in one frame.

Both datasets ship in ``data/`` (see each SOURCE.md for licence and citation). Intents are
prefixed with their dataset (``b77:``, ``bitext:``) because the two label sets were made
independently and must never be merged by accident. Texts are read with a real CSV parser and
with NA detection off, so an utterance such as "NA" or "null" stays text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

B77_PREFIX = "b77:"
BITEXT_PREFIX = "bitext:"
B77_SOURCE = "banking77"
BITEXT_SOURCE = "bitext"
B77_SPLITS = ("train", "test")
BITEXT_SPLITS = ("train", "dev", "test")
CORPUS_COLUMNS = ("text", "intent", "source")


def _read(path: Path, text_col: str, label_col: str) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"{path}: demo dataset file is missing")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=[text_col, label_col])
    return frame.rename(columns={text_col: "text", label_col: "intent"})


def load_corpus(data_dir: Path) -> pd.DataFrame:
    """Load both datasets as one frame with columns ``text, intent, source``.

    Texts are whitespace-stripped; empty texts and exact (intent, text) duplicates are dropped,
    so that "a different text of the same intent" really is different. Row order is file order,
    which keeps the generator deterministic.
    """
    data_dir = Path(data_dir)
    parts: list[pd.DataFrame] = []
    for split in B77_SPLITS:
        frame = _read(data_dir / "banking77" / f"{split}.csv", "text", "category")
        parts.append(frame.assign(intent=B77_PREFIX + frame["intent"], source=B77_SOURCE))
    for split in BITEXT_SPLITS:
        frame = _read(data_dir / "bitext" / f"{split}.csv", "utterance", "intent")
        parts.append(frame.assign(intent=BITEXT_PREFIX + frame["intent"], source=BITEXT_SOURCE))
    corpus = pd.concat(parts, ignore_index=True)
    corpus["text"] = corpus["text"].str.strip()
    corpus = corpus[corpus["text"] != ""]
    corpus = corpus.drop_duplicates(subset=["intent", "text"], keep="first")
    return corpus.loc[:, list(CORPUS_COLUMNS)].reset_index(drop=True)
