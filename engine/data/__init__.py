"""Daily prices (bundled, the user's CSV, or synthetic) and the leakage-free windows built from them.

May import: the top-level vocabulary only.
"""
