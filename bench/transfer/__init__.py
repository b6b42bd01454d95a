"""The procedural transfer suite (tests/transfer_suite/): runs whose factors are drawn at random from a seed, written by
our engine, real Keras 3, real Lightning and TensorBoard, labelled from the construction and checked against the log.

spec (the factors of one run) < data (windows and constant levels) < plan (faults per epoch) < the writers < facts
(labels checked against what was logged) < bench/build_transfer_suite.py (the driver).
"""
