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

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.executor import Executor


class FastPath:
    """A CompiledRunner for one executor's run, compiled on its own thread."""

    def __init__(self, executor: Executor):
        self.executor = executor
        self.runner = None
        self.why: str | None = None  # why the run stays on the interpreter
        self.off = False  # a parameter changed mid-run: the interpreter finishes this run
        self.compiled = threading.Event()
        self.epochs = 1  # per slice, grown towards the slice time the worker asks for
        threading.Thread(target=self._compile, name="gradhopper-compile", daemon=True).start()

    def _compile(self) -> None:
        from gradhopper.runtime.compiled import Unsupported, engine_for, numba_missing

        try:
            self.why = numba_missing()
            if self.why is None:
                runner, self.why = engine_for(self.executor.plan, executor=self.executor)
                if runner is not None:
                    runner.compile(apart=True)
                    self.runner = runner
        except (Unsupported, GradhopperError) as exc:  # the interpreter says it at its step
            self.why = str(exc)
        except Exception as exc:  # a bug in code generation must not stop the run
            self.why = f"{type(exc).__name__}: {exc}"
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
