"""The compiled engine for the editor's unwatched runs, made ready while the interpreter runs.

A run to the end starts on the interpreter at once. Beside it, on a thread of its own, the
plan's kernel is generated and compiled (runtime/compiled.py: a few seconds the first time, in
a child process so that the GIL stays free for the window and the run; about 20 ms from the
disk cache after). Once it is ready, the worker hands the run to it at
the next epoch boundary, and back to the interpreter at any epoch boundary where someone
starts to watch: a pause, a step, a breakpoint, or a parameter change (after which this run
stays on the interpreter, so the change lands at the next step). Both engines give the same
numbers (tests/codegen/test_compiled.py), so where the hand-overs fall changes nothing.
"""
from __future__ import annotations

import threading
import time

from gradhopper.runtime.executor import Executor


class FastPath:
    """A CompiledRunner for one executor's run, compiled on its own thread."""

    def __init__(self, executor: Executor):
        self.executor = executor
        self.runner = None  # None while compiling, or for good if the plan does not compile
        self.off = False  # a parameter changed mid-run: the interpreter finishes this run
        self.compiled = threading.Event()
        self.epochs = 1  # per slice, grown towards the slice time the worker asks for
        threading.Thread(target=self._compile, name="gradhopper-compile", daemon=True).start()

    def _compile(self) -> None:
        """Whatever stops the kernel (no numba, a node without a kernel, numba's refusal, an
        error in the graph that the interpreter reports at its own step, a bug in code
        generation) leaves the run on the interpreter, where it already is."""
        from gradhopper.runtime.compiled import engine_for

        try:
            runner, _ = engine_for(self.executor.plan, executor=self.executor)
            if runner is not None:
                runner.compile(apart=True)
                self.runner = runner
        except Exception:  # noqa: BLE001 - see the docstring: the interpreter goes on
            pass
        finally:
            self.compiled.set()

    def usable(self) -> bool:
        """Compiled, and nobody watches the run."""
        ex = self.executor
        return (self.runner is not None and not self.off and not ex.watch
                and ex.breakpoint is None and not ex.changing)

    def run_slice(self, seconds: float) -> bool:
        """Run about `seconds` of epochs from this epoch boundary; True once the run ended."""
        start = time.perf_counter()
        self.runner.run(epochs=self.epochs)
        took = time.perf_counter() - start
        self.epochs = max(1, min(self.epochs * 4, int(self.epochs * seconds / max(took, 1e-6))))
        return self.executor.finished
