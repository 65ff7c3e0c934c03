"""A mixed social export end to end through ingest: brand replies are context, not contacts;
a customer's reply to the brand's reply continues the conversation (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rca.ingest.pipeline import ingest_paths
from rca.repeats.detect import CONTINUATION, FIRST, REPEAT, SMALL_TALK, detect_repeats
from rca.settings import get_settings
from rca.store import Store
from rca.store.analysis import load_analysis_frame

MAPPING = "social"  # the shipped preset, rca/mappings/social.toml
HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
ROWS = [
    # a conversation: customer -> brand -> customer (reply to the brand) -> brand
    '1,111,True,Mon Nov 02 09:00:00 +0000 2026,"@ShopHelp my parcel never arrived 😡",2,',
    '2,ShopHelp,False,Mon Nov 02 09:20:00 +0000 2026,"@111 Sorry! DM us your order number",3,1',
    '3,111,True,Mon Nov 02 13:40:00 +0000 2026,"@ShopHelp DM sent, still no parcel",4,2',
    '4,ShopHelp,False,Mon Nov 02 14:00:00 +0000 2026,"@111 Thanks, a new one is on its way",,3',
    # three days later, a new tweet about the same parcel: a repeat
    '5,111,True,Thu Nov 05 10:00:00 +0000 2026,"@ShopHelp replacement parcel not here",,',
    # another customer: small talk only
    '6,222,True,Thu Nov 05 11:00:00 +0000 2026,"Happy halloween @ShopHelp 🎃",,',
    # a bad direction value: quarantined with its reason
    '7,333,maybe,Thu Nov 05 12:00:00 +0000 2026,"@ShopHelp where is my refund",,',
]


@pytest.fixture
def social_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RCA_HOME", str(tmp_path / "home"))
    export = tmp_path / "twcs.csv"
    export.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return export


def test_brand_replies_are_context_and_replies_to_them_continue(social_home: Path) -> None:
    settings = get_settings()
    summary = ingest_paths([str(social_home)], settings, mapping_spec=MAPPING)
    file = summary.files[0]
    assert (file.inserted, file.context_messages, file.quarantined) == (4, 2, 1)
    assert any("kept as conversation context" in note for note in file.notes)
    with Store(settings.store_path).read() as con:
        reasons = con.execute("SELECT reason FROM quarantine").fetchall()
        assert "bad direction" in reasons[0][0]
        frame = load_analysis_frame(con, "none")
    assert sorted(frame["contact_id"]) == ["1", "3", "5", "6"]
    assert set(frame["channel"]) == {"social"}
    # message 3 answered the brand's message 2, which answered 1: one conversation
    assert frame.set_index("contact_id").loc["3", "in_reply_to"] == "1"
    marked = detect_repeats(frame.assign(theme_id="T1")).set_index("contact_id")
    assert marked.loc["1", "repeat_status"] == FIRST
    assert marked.loc["3", "repeat_status"] == CONTINUATION
    assert marked.loc["5", "repeat_status"] == REPEAT
    assert marked.loc["6", "repeat_status"] == SMALL_TALK
    assert bool(frame.set_index("contact_id").loc["6", "small_talk"])


def test_reingest_of_a_mixed_export_changes_nothing(social_home: Path) -> None:
    settings = get_settings()
    ingest_paths([str(social_home)], settings, mapping_spec=MAPPING)
    again = ingest_paths([str(social_home)], settings, mapping_spec=MAPPING).files[0]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    with Store(settings.store_path).read() as con:
        assert con.execute("SELECT count(*) FROM context_messages").fetchone() == (2,)


def test_a_conversation_id_reused_by_another_customer_is_kept_apart(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {
            "contact_id": ["a1", "a2", "b1"],
            "created_at": ["2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z", "2026-11-02T09:30:00Z"],
            "customer_id": ["A", "A", "B"],
            "conversation_id": ["T-1", "T-1", "T-1"],
            "text": ["my card was declined", "still declined", "refund not received"],
        }
    )
    path = tmp_path / "chat.csv"
    rows.to_csv(path, index=False)
    settings = get_settings(tmp_path / "home")
    file = ingest_paths([str(path)], settings).files[0]
    assert any("used by more than one customer" in note for note in file.notes)
    with Store(settings.store_path).read() as con:
        frame = load_analysis_frame(con, "none")
    marked = detect_repeats(frame.assign(theme_id="T1")).set_index("contact_id")
    assert marked.loc["a2", "repeat_status"] == CONTINUATION
    assert marked.loc["b1", "repeat_status"] == FIRST  # B's thread is B's own
