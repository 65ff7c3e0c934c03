"""Root-cause attribution: planted single and two-attribute slices, even spread, new values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rca.trends.rootcause import describing_dimensions, explain

MARKETS = ("UK", "DE", "FR", "ES")
VERSIONS = ("5.1", "5.2", "5.3")
CHANNELS = ("chat", "email", "phone")
DIMS = ["dim_market", "dim_app_version", "channel"]


def cells(n: int, rng: np.random.Generator, **fixed: str) -> pd.DataFrame:
    """`n` contacts with random attributes, some held at a fixed value."""
    out = pd.DataFrame(
        {
            "dim_market": rng.choice(MARKETS, n, p=[0.4, 0.3, 0.2, 0.1]),
            "dim_app_version": rng.choice(VERSIONS, n, p=[0.5, 0.3, 0.2]),
            "channel": rng.choice(CHANNELS, n),
        }
    )
    for key, value in fixed.items():
        out[key] = value
    return out


def spike(excess: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    rng = np.random.default_rng(seed)
    baseline = cells(1200, rng)  # 12 periods of 100
    current = pd.concat([cells(100, rng), excess], ignore_index=True)
    return current, baseline, 100.0


def test_single_attribute_spike_names_the_value() -> None:
    rng = np.random.default_rng(1)
    current, baseline, expected = spike(cells(100, rng, dim_market="ES"))
    result = explain(current, DIMS, baseline=baseline, expected_total=expected)
    assert not result.spread_evenly
    assert result.top.attributes == {"market": "ES"}
    assert result.top.explained > 0.8
    assert result.sentence.startswith(f"{result.top.explained:.0%} of the excess comes from")
    assert "market=ES (normally 9% of this theme, now 52%)" in result.sentence


def test_two_attribute_spike_names_the_combination() -> None:
    rng = np.random.default_rng(2)
    excess = cells(100, rng, dim_market="DE", dim_app_version="5.3")
    current, baseline, expected = spike(excess, seed=2)
    result = explain(current, DIMS, baseline=baseline, expected_total=expected)
    assert result.top.attributes == {"market": "DE", "app_version": "5.3"}
    assert "market=DE and app_version=5.3" in result.sentence


def test_even_spread_invents_no_cause() -> None:
    rng = np.random.default_rng(3)
    current, baseline, expected = spike(cells(100, rng), seed=3)
    result = explain(current, DIMS, baseline=baseline, expected_total=expected)
    assert result.spread_evenly and result.explanations == []
    assert "spread evenly" in result.sentence


def test_a_new_app_version_everywhere_is_not_the_cause() -> None:
    """5.4 ships between baseline and now: every theme has it, so it explains nothing."""
    rng = np.random.default_rng(4)
    baseline = cells(1200, rng)
    current = pd.concat([cells(100, rng), cells(100, rng, dim_market="ES")], ignore_index=True)
    current.loc[::2, "dim_app_version"] = "5.4"
    pop_base = cells(20_000, rng)
    pop_cur = cells(2_000, rng)
    pop_cur.loc[::2, "dim_app_version"] = "5.4"
    result = explain(
        current,
        DIMS,
        baseline=baseline,
        expected_total=100.0,
        population_current=pop_cur,
        population_baseline=pop_base,
    )
    assert result.top.attributes == {"market": "ES"}
    assert all("5.4" not in e.label for e in result.explanations)


def test_new_theme_against_everyone_and_describing_dimensions() -> None:
    rng = np.random.default_rng(5)
    population = cells(3000, rng)
    theme = cells(200, rng, dim_market="FR")
    result = explain(theme, DIMS, population_current=population)
    assert result.top.attributes == {"market": "FR"}
    everyone = pd.concat(
        [population.assign(theme_id="T1", area="cards"), theme.assign(theme_id="T2", area="bank")]
    )
    assert describing_dimensions(everyone, ["area", "channel"]) == ["area"]


def test_cells_with_counts_equal_contact_rows() -> None:
    rng = np.random.default_rng(6)
    current, baseline, expected = spike(cells(80, rng, dim_market="ES"), seed=6)
    counted = current.groupby(DIMS, as_index=False).size().rename(columns={"size": "n"})
    a = explain(current, DIMS, baseline=baseline, expected_total=expected)
    b = explain(counted, DIMS, baseline=baseline, expected_total=expected)
    assert a.sentence == b.sentence


def test_a_few_contacts_with_no_value_worth_pairing_are_explained_without_error() -> None:
    """No attribute has a value of enough contacts to pair (a theme page of a quiet week)."""
    import pandas as pd

    from rca.trends.rootcause import explain

    now = pd.DataFrame({"market": ["DE", "UK"], "channel": ["chat", "email"]})
    population = pd.DataFrame({"market": ["DE", "UK"] * 20, "channel": ["chat", "email"] * 20})
    result = explain(now, ["market", "channel"], population_current=population)
    assert result.spread_evenly and result.explanations == []


def test_nothing_to_split_by_is_said_not_raised() -> None:
    """A new theme whose only attributes describe it leaves no dimension to explain it by: the
    CFPB export's first week crashed `rca spikes` and `rca drivers` ("No group keys passed")."""
    rows = pd.DataFrame({"channel": ["web"] * 5})
    for dims in ([], ["missing"]):
        result = explain(rows, dims, population_current=rows, subject="this new theme")
        assert result.explanations == [] and result.observed == 5
        assert "no attribute to explain it by" in result.sentence
        assert result.sentence.startswith("This new theme ")  # a sentence opens in capitals


def test_a_subject_without_contacts_says_so_in_a_sentence() -> None:
    """A theme with no contacts in the period: its page read "this theme (compared with all
    contacts) has no contacts to explain." in lower case."""
    empty = pd.DataFrame({"channel": pd.Series([], dtype=object)})
    result = explain(empty, ["channel"], subject="this theme")
    assert result.observed == 0 and result.sentence == "This theme has no contacts to explain."


def test_a_surge_reads_the_theme_by_its_name_and_the_attributes_as_a_reader_names_them() -> None:
    """The e-mail said "no value of theme_id, parent_group, product, state explains it" and
    "comes from theme_id=T0006": the product's own attributes read as "theme" and "parent
    group", a theme by its name (its id kept in the attributes), and "all contacts" once."""
    rng = np.random.default_rng(3)

    def frame(n: int, **fixed: str) -> pd.DataFrame:
        out = cells(n, rng).assign(theme_id=rng.choice(["T0001", "T0002", "T0003"], n))
        return out.assign(**fixed)

    baseline = frame(1200)
    current = pd.concat([frame(100), frame(100, theme_id="T0006")], ignore_index=True)
    names = {"theme_id": {"T0006": "Late payment (T0006)"}}
    dims = ["theme_id", *DIMS]
    result = explain(current, dims, baseline=baseline, expected_total=100.0,
                     subject="all contacts", value_names=names)  # fmt: skip
    assert result.top.attributes == {"theme_id": "T0006"}
    assert result.top.label == "theme=Late payment (T0006)"
    assert "comes from theme=Late payment (T0006) (normally" in result.sentence
    even = explain(frame(150), dims, baseline=baseline, expected_total=100.0,
                   subject="all contacts")  # fmt: skip
    assert even.sentence.startswith("The excess of 50 contacts is spread evenly")
    assert "no value of theme, market, app_version or channel explains it." in even.sentence
