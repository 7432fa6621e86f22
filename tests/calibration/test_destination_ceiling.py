"""analysis/destination_ceiling.py: reading printed cells and the common-coefficient count,
on hand-made cells whose answers follow from the star bands (1.645 / 1.96 / 2.576)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

_PATH = Path(__file__).resolve().parents[2] / "analysis" / "destination_ceiling.py"
_spec = importlib.util.spec_from_file_location("destination_ceiling", _PATH)
dc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dc)


@pytest.mark.parametrize("printed, expected", [
    ("-0.??**", (True, "0.xx", "**", False)),
    ("0.0? ns", (False, "0.0x", "ns", False)),
    ("?.0?**", (False, "x.xx", "**", False)),
    ("0.00 ns", (False, "0.0x", "ns", True)),
    ("-0.?0***", (True, "0.xx", "***", False)),
])
def test_parse(printed, expected):
    assert dc.parse(printed) == expected


def test_satisfies_sign_class_band_and_margin():
    assert dc.satisfies("0.??**", 0.1, 0.22)            # z = 2.2
    assert not dc.satisfies("0.??**", 0.1, 0.27)        # z = 2.7: ***
    assert not dc.satisfies("-0.??**", 0.1, 0.22)       # wrong sign
    assert not dc.satisfies("0.0? ns", 0.1, 0.12)       # class 0.xx
    assert dc.satisfies("0.??**", 0.1, 0.22, margin=0.2)
    assert not dc.satisfies("0.??**", 0.1, 0.20, margin=0.2)  # z = 2.0 < 1.96 + 0.2


def _cells(rows):
    return pd.DataFrame(rows, columns=["model", "term", "printed", "expected_b", "expected_z", "hit"])


def test_ceiling_of_incompatible_and_compatible_bands():
    # SE 0.1 and 0.2: ** needs b in [0.196, 0.258), *** with SE 0.2 needs b >= 0.515
    cells = _cells([
        ("t9_us_p1", "x", "0.??**", 0.3, 3.0, False),
        ("t9_us_p2", "x", "0.??***", 0.3, 1.5, False),
        # SE 0.1 and 0.08: ** and *** both hold for b in [0.2061, 0.2576)
        ("t9_sk_p1", "x", "0.??**", 0.3, 3.0, True),
        ("t9_sk_p2", "x", "0.??***", 0.24, 3.0, True),
        ("t7_fear", "x", "0.??**", 0.3, 3.0, True),  # not a destination cell
    ])
    table = dc.ceiling(cells).set_index(["destination", "term"])
    assert table.loc[("us", "x"), "best_common_b"] == 1
    assert table.loc[("sk", "x"), "best_common_b"] == 2 and table.loc[("sk", "x"), "hit_now"] == 2
    assert table["cells"].sum() == 4
