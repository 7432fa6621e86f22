"""Shared helpers for the engine tests: toy-unit configs and result comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

TOY = """
[experiment]
name = "toy"
unit = "toy"
root_seed = {seed}
replications = {reps}
chunk_size = {chunk}
populations = {pops}

[world]
size = {size}

[unit]
{unit}

{designs}
[sample]
n = {n}
{extra}
"""


def toy_config(tmp: Path, name: str = "toy.toml", *, seed: int = 7, reps: int = 20,
               chunk: int = 10, pops: int = 1, size: int = 2000, n: str = "100",
               unit: str = "", extra: str = "", designs: tuple[str, ...] = ("srs", "biased"),
               ) -> Path:
    """Write a toy-unit experiment file and return its path."""
    p = Path(tmp) / name
    des = "".join(f'[[designs]]\nname = "{d}"\n' + (
        "params = { strength = 0.3 }\n" if d == "biased" else "") + "\n" for d in designs)
    p.write_text(TOY.format(seed=seed, reps=reps, chunk=chunk, pops=pops, size=size, n=n,
                            unit=unit, extra=extra, designs=des))
    return p


# Variables that legitimately differ between runs (wall-clock timings).
TIMING_VARS = ("timings", "estimand_timings")


def comparable(ds: xr.Dataset) -> xr.Dataset:
    """Results without timings and run-time attributes: what must be bit-identical."""
    out = ds.drop_vars([v for v in TIMING_VARS if v in ds])
    out.attrs = {k: v for k, v in ds.attrs.items() if k in ("config_hash", "root_seed", "unit")}
    return out


def assert_bit_identical(a: xr.Dataset, b: xr.Dataset) -> None:
    """Exact equality of every value (NaN == NaN), dims, coords and key attrs."""
    xr.testing.assert_identical(comparable(a), comparable(b))


@pytest.fixture
def toy(tmp_path: Path):
    def make(**kw) -> Path:
        return toy_config(tmp_path, **kw)

    return make
