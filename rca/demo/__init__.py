"""Demo contact stream: real support texts, synthetic marketplace context, planted events."""

from rca.demo.corpus import load_corpus
from rca.demo.generator import (
    BURST_APP_VERSION,
    BURST_INTENT,
    BURST_MARKET,
    NEW_THEME_INTENT,
    SLOW_RISE_INTENT,
    WORST_REPEAT_INTENT,
    DemoConfig,
    DemoStream,
    generate_demo,
    generate_stream,
    write_demo,
)

__all__ = [
    "BURST_APP_VERSION",
    "BURST_INTENT",
    "BURST_MARKET",
    "NEW_THEME_INTENT",
    "SLOW_RISE_INTENT",
    "WORST_REPEAT_INTENT",
    "DemoConfig",
    "DemoStream",
    "generate_demo",
    "generate_stream",
    "load_corpus",
    "write_demo",
]
