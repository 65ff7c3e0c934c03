"""Theme time series and spike scoring: pure functions over the analysis frame.

`series.build_series` turns contacts into per theme x period counts (zero-filled, partial last
period flagged); `spikes.SpikeScorer` scores a period against each theme's own baseline.
"""

from rca.trends.series import ThemeSeries, build_series
from rca.trends.spikes import SpikeConfig, SpikeScorer, score_total

__all__ = ["SpikeConfig", "SpikeScorer", "ThemeSeries", "build_series", "score_total"]
