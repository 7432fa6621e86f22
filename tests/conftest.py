"""Project-wide test configuration: pytester drives the pytest plugin's own tests, and
``--run-calibration`` opts in to rerunning the documented table calibration.

(The sim_refugee plugin itself, with keyed_seed, keyed_rng and recovery_reps, is loaded
through its ``pytest11`` entry point, as in any project that installs sim_refugee.)
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


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
        if item.get_closest_marker("calibration") is not None:
            item.add_marker(skip)
