"""The pytest plugin: entry point, keyed per-test seeds, --recovery-reps, bad options.

Inner pytest runs (pytester, in process) load the plugin through its ``pytest11``
entry point exactly as a user's project would.
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points

import pytest

INNER = """
import pytest
from sim_refugee.seeds import rng_for, seed_sequence

ROOT, REPS = {root}, {reps}


@pytest.mark.parametrize("k", [1, 2])
def test_keyed(keyed_rng, keyed_seed, request, k):
    ref = seed_sequence(ROOT, "pytest", request.node.nodeid)
    assert keyed_seed.entropy == ref.entropy and keyed_seed.spawn_key == ref.spawn_key
    x = int(keyed_rng.integers(2**62))
    assert x == int(rng_for(ROOT, "pytest", request.node.nodeid).integers(2**62))
    print(f"DRAW {{request.node.nodeid}} {{x}}")


def test_reps(recovery_reps):
    assert recovery_reps.scale == REPS / 400
    assert recovery_reps(400) == REPS
    assert recovery_reps(1) >= 1
"""


def _draws(result: pytest.RunResult) -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r"DRAW (\S+) (\d+)", result.stdout.str())}


def test_plugin_is_registered_by_entry_point() -> None:
    eps = {e.name: e.value for e in entry_points(group="pytest11")}
    assert eps.get("sim_refugee") == "sim_refugee.testing.plugin"


def test_keyed_fixtures_and_reps_scale(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER.format(root=0, reps=400))
    default = pytester.runpytest("-s")
    default.assert_outcomes(passed=3)
    assert "sim_refugee recovery" not in default.stdout.str()  # quiet header by default
    again = pytester.runpytest("-s")
    draws = _draws(default)
    assert len(draws) == 2 and len(set(draws.values())) == 2  # one stream per test id
    assert _draws(again) == draws  # and the same stream in every run

    pytester.makepyfile(test_inner=INNER.format(root=9, reps=1000))
    scaled = pytester.runpytest("-s", "--recovery-reps", "2.5", "--recovery-seed", "9")
    scaled.assert_outcomes(passed=3)
    scaled.stdout.fnmatch_lines(["sim_refugee recovery: --recovery-reps 2.5 --recovery-seed 9"])
    assert set(_draws(scaled)) == set(draws) and not set(_draws(scaled).values()) & set(draws.values())


def test_bad_options_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_x():\n    pass\n")
    for args in (["--recovery-reps", "0"], ["--recovery-reps", "nan"], ["--recovery-seed", "-1"]):
        res = pytester.runpytest(*args)
        assert res.ret == pytest.ExitCode.USAGE_ERROR, args
        res.stderr.fnmatch_lines([f"*{args[0]} must be*"])
    assert pytester.runpytest("-p", "no:sim_refugee").ret == pytest.ExitCode.OK
