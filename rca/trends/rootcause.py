"""Which attribute values (and pairs of values) explain a spike: Adtributor-style attribution.

For every single value (``market=DE``) and every combination of two values from different
attributes (``market=DE & app_version=5.14.2``, the iDice/Squeeze-style search), compare the
slice's share of the current contacts with its *expected* share and score it by

* **explanatory power** - the share of the excess that falls in the slice, and
* **surprise** - Adtributor's Jensen-Shannon term between expected and current share.

The expected share is the theme's own baseline mix, adjusted for how everyone else's mix moved
(a new app version grows in every theme; that is not a cause), and shrunk toward everyone's mix
so a thin baseline does not make noise look surprising. Rank = power x surprise, so a two-value
slice wins only when the excess is concentrated in it, not merely contained in it.

Attribution must not invent causes: a slice counts only if a G-test (Bonferroni over every
slice tried, with the baseline's own sampling noise allowed for) says its share really moved
and it explains at least `min_explained` of the excess; otherwise the excess is "spread evenly".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from rca.settings import Settings

COUNT = "n"
#: The subject of the all-contacts surge: "the excess of 21 contacts in all contacts" said it twice.
ALL_CONTACTS = "all contacts"
#: A two-value slice must out-rank both of its single-value parents (by this factor) to be
#: reported instead of them; see `_drop_redundant_pairs` for the concentration test.
PAIR_GAIN = 1.0
#: A cause needs at least this many contacts: the G-test's chi-square is unreliable below.
MIN_SLICE_CONTACTS = 5
#: Cramer's V between theme and attribute above which the attribute restates the theme.
DESCRIBES_THEME_V = 0.5
#: Values with no expected share still get this much, so a log ratio stays finite.
MIN_SHARE = 1e-6
#: Pairs are searched among at most this many attributes (those whose best single value
#: ranks highest): the pair search grows with the square of the attributes, and a wide
#: export must not search more pairs than a narrow one (channel + 4 dimensions; issue 22).
MAX_PAIR_ATTRIBUTES = 5


@dataclass(frozen=True)
class RootCauseConfig:
    alpha: float = 0.01
    min_explained: float = 0.3
    prior_contacts: float = 20.0
    top: int = 5

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> RootCauseConfig:
        from rca.settings import Settings

        def value(name: str) -> object:
            return getattr(settings, name) if settings else Settings.model_fields[name].default

        return cls(
            alpha=float(value("rootcause_alpha")),
            min_explained=float(value("rootcause_min_explained")),
            prior_contacts=float(value("rootcause_prior_contacts")),
            top=int(value("rootcause_top")),
        )


#: What a reader calls the attributes the product adds itself (an export's own fields keep the
#: names its mapping gave them): "no value of theme_id, parent_group, product…" read as a
#: column dump in the e-mail's surge paragraph.
ATTRIBUTE_NAMES = {"theme_id": "theme", "parent_group": "parent group"}


def attribute_name(attribute: str) -> str:
    """An attribute as a sentence names it: ``theme_id`` -> "theme", ``dim_market`` -> "market"."""
    return ATTRIBUTE_NAMES.get(attribute, attribute.removeprefix("dim_"))


@dataclass(frozen=True)
class Explanation:
    attributes: dict[str, str]
    explained: float  # share of the excess in this slice
    surprise: float  # Adtributor's JS term
    expected_share: float
    current_share: float
    observed: int
    expected: float
    p_value: float
    #: how a value reads, where it is an id: {"theme_id": "Late payment (T0006)"}
    shown: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return " and ".join(
            f"{attribute_name(k)}={self.shown.get(k, v)}" for k, v in self.attributes.items()
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "attributes": self.attributes,
            "label": self.label,
            "explained": self.explained,
            "surprise": self.surprise,
            "expected_share": self.expected_share,
            "current_share": self.current_share,
            "observed": self.observed,
            "expected": self.expected,
            "p_value": self.p_value,
        }


@dataclass(frozen=True)
class Attribution:
    explanations: list[Explanation] = field(default_factory=list)
    spread_evenly: bool = True
    sentence: str = ""
    observed: int = 0
    expected: float = 0.0

    @property
    def top(self) -> Explanation | None:
        return self.explanations[0] if self.explanations else None

    def as_dict(self) -> dict[str, object]:
        return {
            "spread_evenly": self.spread_evenly,
            "sentence": self.sentence,
            "explanations": [e.as_dict() for e in self.explanations],
        }


def cells(frame: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Contact rows (or cells with a count column `n`) -> counts per combination of values."""
    counts = frame[COUNT] if COUNT in frame else pd.Series(1, index=frame.index)
    keyed = frame[dims].astype("string").fillna("(none)")
    keyed = keyed.assign(**{COUNT: counts.to_numpy()})
    return keyed.groupby(dims, observed=True, as_index=False)[COUNT].sum()


def explain(
    current: pd.DataFrame,
    dims: list[str],
    *,
    baseline: pd.DataFrame | None = None,
    expected_total: float | None = None,
    population_current: pd.DataFrame | None = None,
    population_baseline: pd.DataFrame | None = None,
    config: RootCauseConfig | None = None,
    subject: str = "this theme",
    value_names: Mapping[str, Mapping[str, str]] | None = None,
) -> Attribution:
    """Explain why `current` (contacts or cells) exceeds `expected_total`.

    `value_names` says how an attribute's values read where they are ids (a theme id by its
    name); the attributes themselves keep the ids.

    `baseline` is the same subject's earlier contacts (its normal mix); the populations are
    everyone else then and now. Without a baseline (a new theme) the expected mix is the
    population's current one; without `expected_total` the question is only "how does this
    mix differ from the expected one".
    """
    config = config or RootCauseConfig.from_settings()
    dims = [d for d in dims if d in current]
    if not dims:  # nothing to split by (a new theme whose only attributes describe it): say so
        observed = int(current[COUNT].sum()) if COUNT in current else len(current)
        return Attribution(
            sentence=f"{_opening(subject)} has no attribute to explain it by.", observed=observed
        )
    cur = cells(current, dims)
    observed = int(cur[COUNT].sum())
    expected = float(expected_total) if expected_total is not None else float(observed)
    if observed == 0:
        return Attribution(
            sentence=f"{_opening(subject)} has no contacts to explain.", observed=observed
        )
    base = cells(baseline, dims) if baseline is not None and len(baseline) else None
    pop_cur = cells(population_current, dims) if population_current is not None else None
    pop_base = cells(population_baseline, dims) if population_baseline is not None else None
    singles = {
        d: _slices([d], cur, base, pop_cur, pop_base, expected, config.prior_contacts) for d in dims
    }
    paired = _pair_attributes(singles, observed, base)
    # the pairs' marginals are the same over cells of the paired attributes alone, which are
    # far fewer than a wide export's cells (nearly one per contact)
    pairs = []
    if len(paired) >= 2:  # one attribute (or none) has no pairs, and no cells to build them
        few = [None if f is None else cells(f, paired) for f in (cur, base, pop_cur, pop_base)]
        pairs = [
            _slices(list(p), *few, expected, config.prior_contacts, singles)  # type: ignore[arg-type]
            for p in combinations(paired, 2)
        ]
    rows = [*singles.values(), *pairs]
    table = pd.concat(rows, ignore_index=True)
    tries = max(len(table), 1)
    base_n = float(base[COUNT].sum()) if base is not None else np.inf
    table["p_value"] = np.minimum(1.0, _g_test(table, observed, base_n) * tries)
    excess = expected_excess(observed, expected, table)
    table["explained"] = table["excess"] / excess
    table["rank"] = table["explained"].clip(0, 1) * table["surprise"]
    table = _drop_redundant_pairs(table, config.alpha)
    valid = table.loc[
        (table["p_value"] <= config.alpha)
        & (table["explained"] >= config.min_explained)
        & (table["excess"] > 0)
        & (table["observed"] >= MIN_SLICE_CONTACTS)
    ].sort_values("rank", ascending=False)
    explanations = [
        _explanation(row, value_names or {}) for row in valid.head(config.top).itertuples()
    ]
    if not explanations:
        sentence = (
            f"The excess of {observed - expected:.0f} contacts"
            f"{'' if subject == ALL_CONTACTS else ' in ' + subject} is spread evenly: "
            f"no value of {_either(dims)} explains it."
            if expected_total is not None and observed > expected
            else f"No value of {_either(dims)} stands out in {subject}: its mix is as expected."
        )
        return Attribution([], True, sentence, observed, expected)
    top = explanations[0]
    sentence = (
        f"{top.explained:.0%} of the excess comes from {top.label} "
        f"(normally {_percent(top.expected_share)} of {subject}, "
        f"now {_percent(top.current_share)})."
    )
    return Attribution(explanations, False, sentence, observed, expected)


def _pair_attributes(
    singles: dict[str, pd.DataFrame], observed: int, base: pd.DataFrame | None
) -> list[str]:
    """Attributes worth pairing, pruned by support before pairing: a pair is never larger
    than its values, so an attribute with no value of `MIN_SLICE_CONTACTS` contacts above its
    expected share yields no cause; of the rest, those whose strongest such value is most
    significant (G-test), in their order."""
    base_n = float(base[COUNT].sum()) if base is not None else np.inf
    best = {}
    for d, t in singles.items():
        supported = t.loc[(t["observed"] >= MIN_SLICE_CONTACTS) & (t["excess"] > 0)]
        if len(supported):
            best[d] = float(_g_test(supported, observed, base_n).min())
    chosen = set(sorted(best, key=lambda d: best[d])[:MAX_PAIR_ATTRIBUTES])
    return [d for d in singles if d in chosen]


def expected_excess(observed: int, expected: float, table: pd.DataFrame) -> float:
    """The excess to share out; with no overall excess, the largest group's positive part."""
    if observed - expected > 0:
        return observed - expected
    positive = table.loc[table["excess"] > 0].groupby("group")["excess"].sum()
    return float(positive.max()) if len(positive) else 1.0


def _opening(subject: str) -> str:
    """``subject`` opening a sentence: "this theme" read "this theme (compared with all
    contacts) has no contacts to explain." on a theme page."""
    return subject[:1].upper() + subject[1:]


def _percent(share: float) -> str:
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _names(dims: list[str]) -> list[str]:
    return [d.removeprefix("dim_") for d in dims]


def _either(dims: list[str]) -> str:
    """ "theme, parent group, product or state"."""
    names = [attribute_name(d) for d in dims]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _marginal(frame: pd.DataFrame | None, group: list[str]) -> pd.Series | None:
    if frame is None or frame.empty:
        return None
    return frame.groupby(group, observed=True)[COUNT].sum()


def _slices(
    group: list[str],
    cur: pd.DataFrame,
    base: pd.DataFrame | None,
    pop_cur: pd.DataFrame | None,
    pop_base: pd.DataFrame | None,
    expected_total: float,
    prior: float,
    singles: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Every value of `group` (one attribute or a pair): observed, expected share, surprise.

    With populations, a pair's expected share is its two values' expected shares times how
    much the pair co-occurs among everyone now: a value new since the baseline (a fresh app
    version) has no history in any pair, and the theme's own mix on the other attribute
    (its usual product area) must still count.
    """
    a = _marginal(cur, group)
    b, pc, pb = (_marginal(f, group) for f in (base, pop_cur, pop_base))
    index = a.index
    for s in (b, pc, pb):
        if s is not None:
            index = index.union(s.index)
    a = a.reindex(index, fill_value=0).astype(float)
    share_cur_pop = _share(pc, index)
    share_base_pop = _share(pb, index)
    if b is None:
        # no history: the subject should look like everyone else now (or like itself)
        expected_share = share_cur_pop if share_cur_pop is not None else _share(a, index)
    else:
        b = b.reindex(index, fill_value=0).astype(float)
        target = share_base_pop if share_base_pop is not None else _share(a + b, index)
        smoothed = (b + prior * target) / (b.sum() + prior)
        if singles and share_cur_pop is not None and share_base_pop is not None:
            expected_share = _pair_share(group, index, singles, pc)
        elif share_cur_pop is not None and share_base_pop is not None:
            lift = np.where(share_base_pop > 0, smoothed / share_base_pop.clip(MIN_SHARE), 1.0)
            expected_share = share_cur_pop * lift
            expected_share = expected_share / expected_share.sum()
        else:
            expected_share = smoothed
    p = expected_share.to_numpy().clip(MIN_SHARE, 1 - MIN_SHARE)
    q = (a / a.sum()).to_numpy()
    labels = index.to_frame(index=False) if isinstance(index, pd.MultiIndex) else None
    values = (
        [tuple(str(v) for v in row) for row in labels.itertuples(index=False)]
        if labels is not None
        else [(str(v),) for v in index]
    )
    return pd.DataFrame(
        {
            "group": "|".join(group),
            "attributes": [dict(zip(_names(group), v, strict=True)) for v in values],
            "observed": a.to_numpy(),
            "expected": expected_total * p,
            "excess": a.to_numpy() - expected_total * p,
            "expected_share": p,
            "current_share": q,
            "surprise": _js_term(p, q),
        }
    )


def _pair_share(
    group: list[str], index: pd.MultiIndex, singles: dict[str, pd.DataFrame], pop_cur: pd.Series
) -> pd.Series:
    first, second = (
        pd.Series(
            singles[d]["expected_share"].to_numpy(),
            index=[a[d.removeprefix("dim_")] for a in singles[d]["attributes"]],
        )
        for d in group
    )
    values = index.to_frame(index=False).astype(str)
    p1 = first.reindex(values.iloc[:, 0]).fillna(0).to_numpy()
    p2 = second.reindex(values.iloc[:, 1]).fillna(0).to_numpy()
    joint = _share(pop_cur, index).to_numpy()
    m1 = pd.Series(joint).groupby(values.iloc[:, 0].to_numpy()).transform("sum").to_numpy()
    m2 = pd.Series(joint).groupby(values.iloc[:, 1].to_numpy()).transform("sum").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        association = np.where((m1 > 0) & (m2 > 0), joint / (m1 * m2), 1.0)
    out = pd.Series(p1 * p2 * association, index=index)
    return out / out.sum() if out.sum() > 0 else out


def _share(series: pd.Series | None, index: pd.Index) -> pd.Series | None:
    if series is None:
        return None
    full = series.reindex(index, fill_value=0).astype(float)
    total = full.sum()
    return full / total if total > 0 else full


def _js_term(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Adtributor's per-value surprise: 1/2 [p log 2p/(p+q) + q log 2q/(p+q)]."""
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    return 0.5 * (left + right)


def _g_test(table: pd.DataFrame, observed: int, baseline_n: float) -> np.ndarray:
    """P-value that a slice's share moved from expected: in-slice vs rest, 1 df.

    The expected share comes from a finite baseline; dividing G by (1 + n_now / n_baseline)
    allows for that noise, as a two-sample test would.
    """
    p = table["expected_share"].to_numpy()
    q = table["current_share"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.where(q > 0, q * np.log(q / p), 0.0)
        outside = np.where(q < 1, (1 - q) * np.log((1 - q) / (1 - p)), 0.0)
    g = 2 * observed * (inside + outside) / (1 + observed / baseline_n)
    return stats.chi2.sf(np.maximum(g, 0.0), 1)


def _explanation(row: object, value_names: Mapping[str, Mapping[str, str]]) -> Explanation:
    shown = {k: value_names[k][v] for k, v in row.attributes.items() if v in value_names.get(k, {})}
    return Explanation(
        attributes=row.attributes,
        explained=float(min(row.explained, 1.0)),  # other slices may fall below expected
        surprise=float(row.surprise),
        expected_share=float(row.expected_share),
        current_share=float(row.current_share),
        observed=int(row.observed),
        expected=float(row.expected),
        p_value=float(row.p_value),
        shown=shown,
    )


def _drop_redundant_pairs(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Keep a pair only when it out-ranks both its single values *and* the excess inside each
    parent is concentrated in the pair: a binomial test of the pair's count within the
    parent's against its expected share of the parent (the single-value hypothesis spreads
    the parent's excess in proportion). Otherwise the second value restates the first.
    """
    singles = {
        next(iter(a.items())): (r, o, p)
        for a, r, o, p in zip(
            table["attributes"],
            table["rank"],
            table["observed"],
            table["expected_share"],
            strict=True,
        )
        if len(a) == 1
    }
    keep = []
    for a, r, o, p in zip(
        table["attributes"], table["rank"], table["observed"], table["expected_share"], strict=True
    ):
        if len(a) == 1:
            keep.append(True)
            continue
        if o < MIN_SLICE_CONTACTS:  # too small to be a cause anyway: spare its tests
            keep.append(False)
            continue
        parents = [singles.get(item, (0.0, 0.0, 1.0)) for item in a.items()]
        outranks = all(r > PAIR_GAIN * pr for pr, _, _ in parents)
        concentrated = all(
            stats.binom.sf(o - 1, int(po), min(p / max(pp, MIN_SHARE), 1.0)) <= alpha
            for _, po, pp in parents
        )
        keep.append(outranks and concentrated)
    return table.loc[keep]


def describing_dimensions(
    frame: pd.DataFrame, dims: list[str], by: str = "theme_id", max_v: float = DESCRIBES_THEME_V
) -> list[str]:
    """Attributes so tied to the theme (Cramer's V >= max_v) that they restate it.

    Such an attribute (an agent-chosen product area, say) cannot explain why a *new* theme
    appeared when it is compared with everyone else; it only says what the theme is about.
    """
    rows = frame.loc[frame[by].notna()]
    out = []
    for dim in dims:
        values = rows[dim].astype("string").fillna("(none)").astype("category")
        table = rows.groupby([rows[by], values], observed=True).size().unstack(fill_value=0)
        if min(table.shape) < 2:
            continue
        chi2 = stats.chi2_contingency(table, correction=False)[0]
        v = np.sqrt(chi2 / (table.to_numpy().sum() * (min(table.shape) - 1)))
        if v >= max_v:
            out.append(dim)
    return out
