"""Project-wide test options."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-calibration", action="store_true", default=False,
        help="also rerun the documented table calibration (several minutes on 2 cores) "
             "and compare with the shipped solution; .ci/run runs it as its own step")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-calibration"):
        return
    skip = pytest.mark.skip(reason="reruns the whole table calibration: pass --run-calibration")
    for item in items:
        if "calibration" in item.keywords:
            item.add_marker(skip)
