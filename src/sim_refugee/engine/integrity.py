"""What keeps a run folder honest: provenance, checksums, the folder lock, temp cleanup.

* **Provenance.** Every chunk records the config hash, the hash of the result layout
  (``layout_hash``: model terms, statistics, scalars) and the code version. A resumed run
  refuses chunks whose provenance differs from what it would write, and names what
  changed (``stale_reason``); ``--recompute-stale`` recomputes them instead. Claims are
  not part of the layout: they are evaluated from the stored estimates at collect and
  diagnosis time, so adding a claim applies to old runs without rerunning anything.
* **Checksums.** Each chunk file ``X.nc`` has a sidecar ``X.nc.sha256`` with the SHA-256
  of the whole file, computed on the complete temp file and written before that file is
  renamed into place (both atomically), so a chunk under its final name always has its
  sidecar: a kill between the two writes leaves a sidecar without a chunk, which nothing
  reads. Any changed byte (a bit flip in the data, the header or the padding) fails the
  check; a chunk without its sidecar (an older version's crash, or a deleted sidecar)
  counts as unverified.
* **Lock.** ``OUT/.lock`` (pid, host, start time), created exclusively (``O_EXCL``). A
  second run into the same folder is refused while the holder lives; a lock left by a
  dead process on this host is taken over, with a note.
* **Temp files.** ``atomic_path`` writes ``.NAME.XXXX.tmp`` files; those left by a killed
  run are removed when the next run takes the lock.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from sim_refugee.errors import UserInputError
from sim_refugee.io import atomic_write_text

LOCK_NAME = ".lock"
SUM_SUFFIX = ".sha256"


@functools.cache
def code_version() -> str:
    """The code the chunks were computed with: the package version and a digest of every
    Python source file of the installed package (relative path and bytes), so an edit
    between releases also marks earlier chunks stale (``--recompute-stale`` or a new
    ``--out`` then decide), not only a version bump."""
    import sim_refugee
    from sim_refugee import __version__

    root = Path(sim_refugee.__file__).parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(f.read_bytes())
    return f"{__version__}+src.{h.hexdigest()[:12]}"


def layout_hash(labels: list[str] | tuple[str, ...], statistics: tuple[str, ...],
                scalars: tuple[str, ...]) -> str:
    """SHA-256 (16 hex digits) of what a chunk stores per replication, in order."""
    text = json.dumps({"model_term": list(labels), "statistic": list(statistics),
                       "scalar": list(scalars)}, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sum_path(path: Path) -> Path:
    return path.with_name(path.name + SUM_SUFFIX)


def write_checksum(path: Path, source: Path | None = None) -> None:
    """Write ``path``'s sidecar checksum, of ``source`` (the complete temp file about to
    be renamed onto ``path``) or of ``path`` itself."""
    atomic_write_text(sum_path(path), file_sha256(source or path) + "\n")


def checksum_problem(path: Path) -> str | None:
    """None if ``path`` matches its sidecar checksum, else what is wrong."""
    side = sum_path(path)
    if not side.is_file():
        return "no checksum file (written by an interrupted run or an older version)"
    want = side.read_text().strip()
    got = file_sha256(path)
    if got != want:
        return f"checksum mismatch (file {got[:12]}..., recorded {want[:12]}...): corrupted"
    return None


def stale_reason(attrs: dict, config_hash: str, layout: str, version: str) -> str | None:
    """What differs between a chunk's provenance and the current run's, or None."""
    diffs = []
    if attrs.get("config_hash") != config_hash:
        diffs.append(f"config hash {attrs.get('config_hash')} -> {config_hash}")
    if attrs.get("layout_hash") != layout:
        diffs.append(f"result layout (terms/statistics/scalars) hash "
                     f"{attrs.get('layout_hash')} -> {layout}")
    if attrs.get("code_version") != version:
        diffs.append(f"code version {attrs.get('code_version')} -> {version}")
    return "; ".join(diffs) or None


def clean_temp_files(out: Path) -> int:
    """Remove temp files of interrupted atomic writes in OUT and OUT/chunks; their count."""
    n = 0
    for d in (out, out / "chunks"):
        if not d.is_dir():
            continue
        for p in d.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
    return n


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def folder_lock(out: Path, log: object = print) -> Iterator[None]:
    """Hold OUT/.lock for the duration (see module docstring); refuse if it is held."""
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK_NAME
    me = {"pid": os.getpid(), "host": socket.gethostname(),
          "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(lock.read_text() or "{}")
            except (OSError, ValueError):
                held = {}
            pid, host = held.get("pid"), held.get("host")
            if not isinstance(pid, int):
                if time.time() - _mtime(lock) < 5:  # being written right now
                    time.sleep(0.2)
                    continue
            elif host != me["host"]:
                raise UserInputError(
                    f"output folder {str(out)!r} is locked by process {pid} on host {host!r} "
                    f"(since {held.get('started')}); if no run is active there, delete "
                    f"{str(lock)!r}, or choose another --out",
                    key="--out") from None
            elif _pid_alive(pid) and pid != me["pid"]:
                raise UserInputError(
                    f"output folder {str(out)!r} is in use by another run (pid {pid}, "
                    f"since {held.get('started')}); wait for it to finish or choose "
                    "another --out", key="--out") from None
            if callable(log):
                log(f"note: removing a stale lock of a process that is gone (pid {pid})")
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(me))
        break
    else:
        raise UserInputError(f"could not take the lock {str(lock)!r}", key="--out")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if json.loads(lock.read_text()).get("pid") == me["pid"]:
                lock.unlink()


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0
