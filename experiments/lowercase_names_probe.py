"""Can the person-name check see names in text written all in lower case ("email to john")?

    python -m experiments.lowercase_names_probe

`rca.text.persons` checks only words written capitalised mid-sentence, so a set written in
lower case (HWU64: 99 % of utterances) has its names ("john", "mary") in keywords and theme
names. The probe takes the 300 most widespread lower-case non-stop-words of each set (by their
largest count in one gold class, as `person_words` ranks its candidates), title-cases the word
in three of its texts, and counts the words spaCy's small model tags PERSON in at least half of
them (single words accepted: the redaction rules would refuse a lone first name without a cue).
Then (`--product`) what the product's `rca.text.persons.person_words` finds on each set with the
gold classes as groups: the given-name list (`rca.text.given_names`) as the prior, the same
check confirming. Figures only; printed.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from experiments.datasets import banking77, bitext, hwu64

CANDIDATES = 300
WORD_RE = re.compile(r"(?<![\w'’-])[a-z]{3,}(?![\w])")


def product() -> None:
    from experiments.datasets import cfpb
    from rca.settings import Settings
    from rca.text.audience import people_name_finder
    from rca.text.persons import HONORIFICS, person_words

    finder = people_name_finder(Settings())
    finder(["warm up the model"])
    sets = {"hwu64": hwu64("intent"), "banking77": banking77("test"),
            "bitext": bitext("all", "intent"), "cfpb": cfpb("Issue")}  # fmt: skip
    for name, ds in sets.items():
        classes = {c: i for i, c in enumerate(sorted(set(ds.labels)))}
        group = np.array([classes[v] for v in ds.labels])
        t0 = time.perf_counter()
        found = sorted(person_words(ds.texts, group, finder) - HONORIFICS)
        print(f"{name}: {len(found)} words in {time.perf_counter() - t0:.1f} s: {found}")


def main() -> None:
    import sys

    if "--product" in sys.argv:
        product()
        return
    import spacy

    from rca.settings import Settings

    nlp = spacy.load(Settings().redact_ner_model)
    sets = {"hwu64": hwu64("intent"), "banking77": banking77("test"),
            "bitext": bitext("all", "intent")}  # fmt: skip
    for name, ds in sets.items():
        texts = ds.texts
        classes = {c: i for i, c in enumerate(sorted(set(ds.labels)))}
        group = np.array([classes[v] for v in ds.labels])
        in_group: dict[str, Counter[int]] = {}
        uses: dict[str, list[tuple[int, int, int]]] = {}
        caseless = 0
        for i, text in enumerate(texts):
            if re.search(r"[A-Z]", text):
                continue
            caseless += 1
            for m in WORD_RE.finditer(text):
                word = m.group(0)
                if word in ENGLISH_STOP_WORDS:
                    continue
                in_group.setdefault(word, Counter())[int(group[i])] += 1
                uses.setdefault(word, []).append((i, m.start(), m.end()))
        order = sorted(in_group, key=lambda w: (-max(in_group[w].values()), w))
        windows, owners = [], []
        for word in order[:CANDIDATES]:
            found = uses[word]
            for j in np.unique(np.linspace(0, len(found) - 1, 3).astype(int)):
                i, s, e = found[j]
                windows.append(texts[i][:s] + texts[i][s:e].capitalize() + texts[i][e:])
                owners.append((word, s, e))
        t0 = time.perf_counter()
        docs = list(nlp.pipe(windows, batch_size=64))
        seconds = time.perf_counter() - t0
        hits: Counter[str] = Counter()
        reads: Counter[str] = Counter()
        for doc, (word, s, e) in zip(docs, owners, strict=True):
            reads[word] += 1
            persons = [x for x in doc.ents if x.label_ == "PERSON"]
            hits[word] += any(x.start_char <= s and e <= x.end_char for x in persons)
        people = sorted(w for w in reads if hits[w] > 0 and hits[w] >= 0.5 * reads[w])
        ranks = {w: order.index(w) for w in ("john", "mary", "olly") if w in in_group}
        print(
            f"{name}: {caseless / len(texts):.2f} of texts caseless; {len(windows)} windows in "
            f"{seconds:.1f} s; {len(people)} words tagged PERSON: {people}; ranks {ranks}"
        )


if __name__ == "__main__":
    main()
