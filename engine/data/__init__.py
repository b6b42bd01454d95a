"""Daily prices (bundled, the user's CSV, or synthetic), the leakage-free windows built from them, and the economic
reading of the direction head on daily returns (direction_strategy).

May import: the top-level vocabulary only.
"""
