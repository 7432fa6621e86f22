"""Thread pinning (issue 17): BLAS/OpenMP pinned with threadpoolctl in workers and in a
serial run, as ``[backend] threads`` says; restored after a serial run; 0 leaves them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

from sim_refugee.engine import load_experiment
from sim_refugee.engine.backends import SerialBackend, make_backend
from sim_refugee.engine.run import make_tasks
from sim_refugee.errors import UserInputError
from sim_refugee.estimators import _threads
from tests.engine.conftest import toy_config


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_backend_threads_key(tmp_path: Path) -> None:
    exp = load_experiment(toy_config(tmp_path, extra='[backend]\nkind = "serial"\nthreads = 0\n'))
    assert exp.file.backend.threads == 0
    assert make_backend(exp.file.backend).threads == 0
    assert load_experiment(toy_config(tmp_path, "b.toml")).file.backend.threads == 1
    with pytest.raises(UserInputError, match="threads"):
        load_experiment(toy_config(tmp_path, "c.toml", extra="[backend]\nthreads = -1\n"))
    # the backend table is not science: the config hash does not depend on it
    a = load_experiment(toy_config(tmp_path, "d.toml", extra="[backend]\nthreads = 2\n"))
    assert a.config_hash == load_experiment(toy_config(tmp_path, "b.toml")).config_hash


def test_serial_run_pins_and_restores(tmp_path: Path) -> None:
    exp = load_experiment(toy_config(tmp_path, reps=2, chunk=2))
    specs = make_tasks(exp, {0: (0, 2)})
    seen = []
    be = SerialBackend(1)
    import sim_refugee.engine.backends as backends

    real = backends.execute_task

    def spy(spec, **kw):
        seen.append((_threads.pinned(), _blas_threads()))
        return real(spec, **kw)

    backends.execute_task = spy
    try:
        list(be.run(specs))
    finally:
        backends.execute_task = real
    assert seen and all(p == 1 and t <= {1} for p, t in seen)
    assert _threads.pinned() is None


def test_worker_pinning_in_a_fresh_process() -> None:
    code = (
        "from threadpoolctl import threadpool_info\n"
        "from sim_refugee.engine.tasks import limit_blas_threads\n"
        "from sim_refugee.estimators._threads import pinned\n"
        "limit_blas_threads(1)\n"
        "import os\n"
        "ts = {i['num_threads'] for i in threadpool_info() if i['user_api'] in ('blas', 'openmp')}\n"
        "assert pinned() == 1 and ts <= {1}, ts\n"
        "assert os.environ['OPENBLAS_NUM_THREADS'] == '1'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
