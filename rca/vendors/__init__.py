"""Vendor scorecards: which handler's resolutions bring customers back, compared fairly (pure)."""
