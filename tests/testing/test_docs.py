"""docs/TESTING.md stays true: its example runs and passes, and its failure message is
what the code prints for the stated estimator and seed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim_refugee.testing import recovery

DOC = (Path(__file__).resolve().parents[2] / "docs" / "TESTING.md").read_text()


def _block(lang: str, index: int = 0) -> str:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)[index]


def _pooled(data):
    """The wrong SE of the docs: pooled variance with unequal variances."""
    a, b = data
    na, nb = len(a), len(b)
    s2 = ((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2)
    return b.mean() - a.mean(), np.sqrt(s2 * (1 / na + 1 / nb))


def test_example_runs_and_can_fail(keyed_seed, recovery_reps) -> None:
    ns: dict = {}
    exec(compile(_block("python"), "docs/TESTING.md", "exec"), ns)
    ns["test_diff_in_means"](keyed_seed, recovery_reps)
    wrong = recovery(ns["draw"], ns["diff_in_means"], 0.5, 400, keyed_seed)
    with pytest.raises(AssertionError, match="bias of 'theta'"):
        wrong.assert_unbiased()


def test_failure_message_in_docs_is_current() -> None:
    ns: dict = {}
    exec(compile(_block("python"), "docs/TESTING.md", "exec"), ns)
    res = recovery(ns["draw"], _pooled, 0.3, 400, 2024)
    assert f"Its coverage, {res.coverage['theta']:.4g}, passed" in DOC
    res.assert_unbiased().assert_coverage()
    with pytest.raises(AssertionError) as info:
        res.assert_se_calibrated()
    assert str(info.value).strip() == _block("text").strip()
