"""Fixtures and helpers shared across test packages."""
import socket

import pytest


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
        cls._instance_dict.pop(name, None)
