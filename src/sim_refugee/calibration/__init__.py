"""Worlds that reproduce the paper's tables (indirect inference, CALIBRATION.md).

``cells``: the printed Table 7/9 cells and valid-N patterns as checkable targets.
"""
