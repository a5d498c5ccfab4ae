"""Fixtures and helpers shared across test packages."""
import logging
import os
import re
import socket
import warnings
from contextlib import contextmanager
from typing import Iterator, List

import pytest


def pytest_configure(config):
    """Under pytest-xdist, each worker takes its share of the cores.

    torch's intra-op pool defaults to every core, so two workers on two cores run
    four spinning OpenMP threads and small ops slow down up to tenfold. The share
    also goes to the subprocesses a test starts (OMP_NUM_THREADS), unless the
    environment already sets it.
    """
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    if workers < 2 or 'OMP_NUM_THREADS' in os.environ:
        return
    import torch
    threads = max(1, (os.cpu_count() or 1) // workers)
    os.environ['OMP_NUM_THREADS'] = str(threads)
    torch.set_num_threads(threads)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for a process group's rendezvous)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def visualizer_name(request):
    """A visualizer name for this test alone, dropped afterwards.

    mmengine keeps one visualizer per name for the whole process and hands it to
    every later Runner asking for that name, with its first save_dir: a Runner built
    in-process under the configs' shared name ``visualizer`` would leak into later
    tests in the same worker.
    """
    from mmseg.visualization import SegLocalVisualizer

    from mmseg_fcn_classic.visualization import FCNSegLocalVisualizer
    name = f'visualizer_{request.node.name}'
    yield name
    for cls in (SegLocalVisualizer, FCNSegLocalVisualizer):  # each keeps its own
        for key in [k for k in cls._instance_dict if k.startswith(name)]:
            cls._instance_dict.pop(key)  # and the demo's test Runner's `<name>_test`


class LogRecords(logging.Handler):
    """Collects every record a logger hands to its handlers: what it prints."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.WARNING) -> List[str]:
        """The messages of the records at ``level`` or above."""
        return [r.getMessage() for r in self.records if r.levelno >= level]


@contextmanager
def logged(logger: logging.Logger) -> Iterator[LogRecords]:
    """Collect what ``logger`` prints while the block runs (an ``MMLogger`` does not
    propagate to the root logger, so ``caplog`` does not see it)."""
    handler = LogRecords()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@contextmanager
def shown_warnings() -> Iterator[List[warnings.WarningMessage]]:
    """Record the warnings that a plain ``python`` process would print while the
    block runs: Python's default filters (no deprecation, import or resource
    warnings from libraries), each location's first warning, pytest's filters
    set aside."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter('default')
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                         ResourceWarning):
            warnings.simplefilter('ignore', category)
        yield caught


#: A warning line of any source: mmengine's logger, Python's warnings, torch's
#: logging (``W1207 17:41:34.530000 ...``).
WARNING_LINE = re.compile(r' - (WARNING|ERROR) - |\w+Warning: |^[WE]\d{4} \d\d:\d\d:\d\d')


def warning_lines(output: str) -> List[str]:
    """The warning lines of a process's output, each after the ``@@ step`` marker
    line before it (if any)."""
    step, found = None, []
    for line in output.splitlines():
        if line.startswith('@@ '):
            step = line[3:]
        elif WARNING_LINE.search(line):
            found.append(line if step is None else f'[{step}] {line}')
    return found
