"""The sweep's local Dask cluster, run by a helper process in a session of its own.

Why a helper: a Ctrl-C on a terminal goes to every process of the foreground group. Worker
processes that got it would each print a KeyboardInterrupt; ignoring SIGINT while they start (so
that they inherit the ignoring) would swallow a Ctrl-C meant for the sweep. Started with
`start_new_session`, the helper, its scheduler and its workers never see the terminal's Ctrl-C,
and the sweep's own process keeps Python's handler the whole time: Ctrl-C while the cluster
starts or while the runs go on reaches the sweep alone, which cancels and closes in order.

Protocol: the helper prints the scheduler's address on one line once its workers are up, then
waits until its standard input closes (the sweep is done, or died) and closes the cluster. If it
outlives `CLOSE_TIMEOUT` after that, its whole process group is killed. Its log goes to a
temporary file, read only to say why a start failed. Run as a script: `python -m
gradhopper.runtime.sweep.localcluster WORKERS`.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile

from ..errors import GradhopperError

CLOSE_TIMEOUT = 3  # seconds for the helper to close its cluster before its group is killed


@contextlib.contextmanager
def local_cluster(workers: int, say=lambda line: None):
    """Yield the address of a fresh cluster of `workers` processes of one thread each.

    `say` hears one line once the helper is on its way. On the way out the cluster is closed
    in order; after an exception (Ctrl-C while it starts, say) its processes are killed at once:
    no run of theirs is wanted any more."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen([sys.executable, "-m", __name__, str(workers)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                text=True, start_new_session=True)
        try:
            say(f"starting a local cluster of {workers} worker{'s' * (workers != 1)}...")
            address = proc.stdout.readline().strip()
            if not address:
                proc.wait()
                log.seek(0)
                lines = [line.strip() for line in log.read().splitlines() if line.strip()]
                why = lines[-1] if lines else f"the helper exited with {proc.returncode}"
                raise GradhopperError(f"cannot start a local Dask cluster: {why}")
            yield address
        except BaseException:
            _close(proc, timeout=0)
            raise
        else:
            _close(proc, timeout=CLOSE_TIMEOUT)


def _close(proc: subprocess.Popen, timeout: float) -> None:
    """Ask the helper to close its cluster (its stdin ends), then kill whatever of its process
    group is left after `timeout` seconds, or at once on a second Ctrl-C."""
    with contextlib.suppress(OSError):
        proc.stdin.close()
    try:
        if timeout:
            proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()


def serve(workers: int) -> None:
    import logging

    from distributed import LocalCluster

    # ":0": the scheduler's HTTP endpoint on a free port, never fighting another cluster for
    # 8787 (the dashboard itself needs bokeh, which the sweep extra does not install).
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster:
        print(cluster.scheduler_address, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
