"""Where tasks run: serially, on joblib/loky processes, or on a Dask cluster.

Every backend has one job: run ``execute_task`` on each ``TaskSpec`` and yield
``(spec, dataset)`` in completion order. Results are identical whatever the backend,
because a task's output depends only on its spec (keyed seeds, see ``tasks``).
``run(specs, out=...)``: backends whose workers share this machine's file system
(serial, loky, a Dask LocalCluster) write each chunk in the worker (atomically, as the
parent would) and yield ``(spec, None)``, so the parent process, which competes with
the workers for the cores, only keeps the books; a remote Dask cluster (a scheduler
address or jobqueue) sends the datasets back and the parent writes them.

Dask targets: a ``LocalCluster`` (processes, one thread each, scheduler on 127.0.0.1),
an existing scheduler address, or a dask-jobqueue cluster (SLURM, PBS) built from the
config's ``[cluster]`` table. Every worker process, and a serial run, pins BLAS and
OpenMP to ``[backend] threads`` threads (default 1) with threadpoolctl
(``tasks.limit_blas_threads`` on the first task; LocalCluster workers and jobqueue jobs
also get the usual ``*_NUM_THREADS`` variables); ``threads = 0`` leaves the libraries'
defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import xarray as xr

from sim_refugee.engine.config import BackendSection, ClusterSection
from sim_refugee.engine.tasks import TaskSpec, execute_task
from sim_refugee.errors import UserInputError

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: The scheduler commands dask-jobqueue runs to submit and cancel jobs.
SCHEDULER_COMMANDS = {"slurm": ("sbatch", "squeue", "scancel"), "pbs": ("qsub", "qstat", "qdel")}
SCHEDULER_TIMEOUT = "20s"  # how long to try to reach a --scheduler address


def _pair(spec: TaskSpec, threads: int = 1, out: str | None = None
          ) -> tuple[TaskSpec, xr.Dataset | None]:
    """Run one task in a worker; with ``out``, write its chunk there and return None."""
    ds = execute_task(spec, threads=threads)
    if out is None:
        return spec, ds
    from sim_refugee.engine.storage import write_chunk

    write_chunk(Path(out), spec, ds)
    return spec, None


class SerialBackend:
    """In this process, one task after another (BLAS and OpenMP pinned to ``threads``
    for the run, restored afterwards)."""

    kind = "serial"

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def run(self, specs: Iterable[TaskSpec], out: str | Path | None = None
            ) -> Iterator[tuple[TaskSpec, xr.Dataset | None]]:
        from sim_refugee.engine.storage import write_chunk
        from sim_refugee.estimators._threads import threads_pinned

        for spec in specs:
            with threads_pinned(self.threads):
                ds = execute_task(spec, limit_threads=False)
            if out is None:
                yield spec, ds
            else:
                write_chunk(Path(out), spec, ds)
                yield spec, None

    def close(self) -> None:
        pass


class LokyBackend:
    """joblib's loky process pool on this machine."""

    kind = "loky"

    def __init__(self, workers: int, threads: int = 1) -> None:
        self.workers = workers
        self.threads = threads

    def run(self, specs: Iterable[TaskSpec], out: str | Path | None = None
            ) -> Iterator[tuple[TaskSpec, xr.Dataset | None]]:
        from joblib import Parallel, delayed, parallel_config

        specs = list(specs)
        if not specs:
            return
        dest = None if out is None else str(out)
        with parallel_config(backend="loky", inner_max_num_threads=self.threads or None):
            par = Parallel(n_jobs=self.workers, return_as="generator_unordered", batch_size=1)
            yield from par(delayed(_pair)(s, self.threads, dest) for s in specs)

    def close(self) -> None:
        """Stop loky's reusable workers now (they would idle for minutes; after an
        interrupt they would keep computing the tasks they hold)."""
        from joblib.externals.loky import get_reusable_executor

        with contextlib.suppress(Exception):
            get_reusable_executor().shutdown(wait=True, kill_workers=True)


class DaskBackend:
    """Dask distributed: LocalCluster, a scheduler address, or a dask-jobqueue cluster."""

    kind = "dask"

    def __init__(
        self,
        workers: int,
        scheduler: str | None = None,
        cluster: ClusterSection | None = None,
        wait_timeout: float = 300.0,
        threads: int = 1,
    ) -> None:
        self.threads = threads
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover
            raise UserInputError(
                "backend 'dask' needs dask[distributed] (pip install 'sim_refugee[cluster]')",
                key="backend.kind",
            ) from exc
        self._cluster: Any = None
        self.local = not scheduler and cluster is None  # a LocalCluster on this machine
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise UserInputError(
                    f"config key 'backend.scheduler': cannot reach dask scheduler "
                    f"{scheduler!r} ({exc})",
                    key="backend.scheduler",
                ) from exc
        elif cluster is not None:
            self._cluster = make_jobqueue_cluster(cluster)
            self._cluster.scale(jobs=cluster.jobs)
            self.client = Client(self._cluster)
            try:
                self.client.wait_for_workers(1, timeout=wait_timeout)
            except (TimeoutError, asyncio.TimeoutError):
                self.close()
                raise UserInputError(
                    f"config key 'cluster': no Dask worker started within {wait_timeout:g} s; "
                    "check queue, account, memory and walltime against the scheduler's limits "
                    "and the job logs (cluster.log_directory)",
                    key="cluster",
                ) from None
        else:
            import dask

            # worker-saturation 1.0: a worker holds only the task it runs, the rest wait on
            # the scheduler and go to whichever worker frees first (as loky dispatches).
            # Dask's default (1.1) queues a second task on each single-threaded worker, so
            # with a few long chunk tasks of unequal size (10, 10, 4 replications) one
            # worker can end up with all the long ones: measured 0.6 of loky's throughput
            # on paper_baseline-sized work, against ~0.9 with 1.0.
            # The workers' own monitoring is off: the statistical profiler samples every
            # worker's stack every 10 ms (and the GIL monitor every 1 ms, where gilknocker
            # is installed) for a dashboard this local cluster does not serve
            # (dashboard_address=None).
            #
            # And the workers keep glibc's own malloc tuning: Dask's nanny sets
            # MALLOC_TRIM_THRESHOLD_ in every worker (to hand freed memory back to the OS
            # sooner in long-lived workers), and setting it switches off glibc's dynamic
            # mmap threshold, so each temporary array above 128 KiB (an n x p block of a
            # fit) is mmap-ed, page-faulted and unmapped again: one worker ran the same
            # replications 1.5 times slower than a loky worker. A worker here holds one
            # cached population and its fits' temporaries, so that trimming buys little.
            env = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                   if k != "MALLOC_TRIM_THRESHOLD_"}
            with dask.config.set({"distributed.scheduler.worker-saturation": 1.0,
                                  "distributed.worker.profile.enabled": False,
                                  "distributed.admin.system-monitor.gil.enabled": False,
                                  "distributed.nanny.pre-spawn-environ": env}):
                self._cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    env=dict.fromkeys(_THREAD_VARS, str(threads)) if threads else None,
                )
            self.client = Client(self._cluster)

    def run(self, specs: Iterable[TaskSpec], out: str | Path | None = None
            ) -> Iterator[tuple[TaskSpec, xr.Dataset | None]]:
        from dask.distributed import as_completed

        specs = list(specs)
        if not specs:
            return
        dest = None if out is None or not self.local else str(out)
        futures = self.client.map(_pair, specs, threads=self.threads, out=dest, pure=False)
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()


def check_scheduler_commands(kind: str) -> None:
    """UserInputError naming ``cluster.kind`` unless the scheduler's commands are on PATH
    (without them dask-jobqueue cannot submit a job and the run would wait for workers
    that never start)."""
    missing = [c for c in SCHEDULER_COMMANDS[kind] if shutil.which(c) is None]
    if missing:
        raise UserInputError(
            f"config key 'cluster.kind': kind = {kind!r} needs the {kind.upper()} commands "
            f"{', '.join(SCHEDULER_COMMANDS[kind])} on this machine's PATH; not found: "
            f"{', '.join(missing)}. Run from the cluster's login node, or drop the [cluster] "
            "table (or use --backend serial/loky)",
            key="cluster.kind",
        )


def make_jobqueue_cluster(c: ClusterSection) -> Any:
    """A dask-jobqueue cluster (SLURMCluster or PBSCluster) from a ``[cluster]`` table."""
    check_scheduler_commands(c.kind)
    try:
        import dask_jobqueue
    except ImportError as exc:  # pragma: no cover
        raise UserInputError(
            "config key 'cluster' needs dask-jobqueue (pip install 'sim_refugee[cluster]')",
            key="cluster",
        ) from exc
    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[c.kind]
    kw: dict[str, Any] = {
        "cores": c.cores,
        "processes": c.processes,
        "memory": c.memory,
        "walltime": c.walltime,
        "job_script_prologue": [f"export {v}=1" for v in _THREAD_VARS] + list(c.job_script_prologue),
        "job_extra_directives": list(c.job_extra_directives),
    }
    for name in ("queue", "account", "interface", "local_directory", "log_directory", "python"):
        val = getattr(c, name)
        if val is not None:
            kw[name] = val
    return cls(**kw)


def make_backend(
    section: BackendSection, cluster: ClusterSection | None = None
) -> SerialBackend | LokyBackend | DaskBackend:
    """The backend a ``[backend]`` table (after CLI overrides) asks for."""
    if section.kind == "serial":
        return SerialBackend(section.threads)
    if section.kind == "loky":
        return LokyBackend(section.workers, section.threads)
    if section.kind == "dask":
        return DaskBackend(section.workers, section.scheduler, cluster, threads=section.threads)
    raise UserInputError(f"config key 'backend.kind': unknown backend {section.kind!r}",
                         key="backend.kind")
