"""Fixtures of the report tests (the synthetic run itself is in report_synthetic.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .report_synthetic import write_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path / "run")
