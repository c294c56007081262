"""The engine of an editor run, chosen once as the run starts, never by a clock.

DESIGN.md's rule: a run stays on the engine it started on unless a person hands it over. So
when a run to the end starts, the plan's kernel is generated (runtime/codegen/compiled.py) and looked
up in the disk cache. If it is there, the run goes on the compiled engine from its first epoch
boundary, and gives the numbers of `gradhopper run --engine compiled`. If not, the whole run
stays on the interpreter (the numbers of `gradhopper run`), while the kernel compiles for the
next run in a child process, so that the GIL stays free for the window and the run. A
compiled run goes over to the interpreter when a person watches: a pause followed by a step,
a breakpoint, or a parameter change (after which this run stays on the interpreter, so the
change lands at the next step); it goes back to the kernel at the next epoch boundary once
nobody watches.
"""
from __future__ import annotations

import threading
import time

from gradhopper.runtime.executor import Executor


class FastPath:
    """This run's compiled engine, if its kernel was cached when the run started."""

    def __init__(self, executor: Executor):
        self.executor = executor
        self.runner = None  # a CompiledRunner when the run is on the compiled engine
        self.off = False  # a parameter changed mid-run: the interpreter finishes this run
        self.compiled = threading.Event()  # set once the kernel is ready, for now or later
        self.epochs = 1  # per slice, grown towards the slice time the worker asks for
        self._choose()

    def _choose(self) -> None:
        """Whatever stops the kernel (no numba, a node without a kernel, numba's refusal, an
        error in the graph that the interpreter reports at its own step, a bug in code
        generation) leaves the run on the interpreter, where it already is."""
        from gradhopper.runtime.codegen.compiled import engine_for

        try:
            runner, _ = engine_for(self.executor.plan, executor=self.executor)
            if runner is not None and runner.cached():
                runner.compile()  # loads it from the disk cache
                self.runner = runner
            elif runner is not None:
                threading.Thread(target=self._compile_for_later, args=(runner,),
                                 name="gradhopper-compile", daemon=True).start()
                return
        except Exception:  # noqa: BLE001 - see the docstring: the interpreter goes on
            pass
        self.compiled.set()

    def _compile_for_later(self, runner) -> None:
        try:
            runner.compile_for_later()
        except Exception:  # noqa: BLE001 - the next run compiles, or stays interpreted
            pass
        finally:
            self.compiled.set()

    def usable(self) -> bool:
        """On the compiled engine, and nobody watches the run."""
        ex = self.executor
        return (self.runner is not None and not self.off and not ex.watch
                and ex.breakpoint is None and not ex.changing and not ex.overridden)

    def run_slice(self, seconds: float) -> bool:
        """Run about `seconds` of epochs from this epoch boundary; True once the run ended.
        Where a slice ends changes no number: each call starts from the run state exactly."""
        start = time.perf_counter()
        self.runner.run(epochs=self.epochs)
        took = time.perf_counter() - start
        self.epochs = max(1, min(self.epochs * 4, int(self.epochs * seconds / max(took, 1e-6))))
        return self.executor.finished
