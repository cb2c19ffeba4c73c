"""When the cyclic garbage collector runs: paused for a command that reads, builds and ends.

Reading a plan or a tree of sources allocates hundreds of thousands of objects (located
YAML nodes, marks, observations, the model) and frees almost none of them until the
command ends; almost none is part of a reference cycle, so reference counting frees what
dies. The collector cannot know that: every collection of the oldest generation walks all
of them again, and the larger the input, the more of the time it took (18% of `reconcile`
at 5,000 services, 38% at 20,000: the growth that was not linear). CPython's documentation
suggests pausing it for such allocation-heavy phases (`gc.freeze`, `gc.disable`).

Memory stays bounded: a paused block keeps only its garbage that is in a reference cycle
(see benchmarks/README.md, "Scaling": the peak memory is unchanged), every other object is
freed as before, and the collector resumes after the block and frees those cycles too.
Only commands that end are paused; long-running ones (`serve`, `up`, `status --watch`)
never are: see `portplan.cli._commands.BATCH`.
"""

from __future__ import annotations

import gc


class paused:  # lower case: used as a function, `with paused():`
    """Run the block with the cyclic collector paused; resume it (as it was) after.

    A class rather than a contextlib generator: the console script's plain paths import
    this, and contextlib is a few milliseconds of their start-up."""

    def __enter__(self) -> None:
        self._was = gc.isenabled()
        gc.disable()

    def __exit__(self, *_: object) -> None:
        if self._was:
            gc.enable()
