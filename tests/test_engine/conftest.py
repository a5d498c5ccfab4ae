"""Hostile checkpoints and a loopback HTTP server for the checkpoint tests."""
import functools
import http.server
import threading

import pytest
import torch


class WriteMarker:
    """Unpickling this runs code: ``open(path, 'w')`` creates the marker file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, 'w'))


@pytest.fixture
def marker(tmp_path):
    """The file a malicious checkpoint creates if anything unpickles it fully."""
    path = tmp_path / 'PWNED'
    yield path
    assert not path.exists(), 'a malicious checkpoint was unpickled'


@pytest.fixture
def evil(tmp_path, marker):
    """Write a malicious checkpoint (valid weights plus the payload) to a path."""
    def write(path=None):
        path = tmp_path / 'evil.pth' if path is None else path
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({'state_dict': {'w': torch.ones(2)}, 'x': WriteMarker(marker)}, path)
        return path
    return write


@pytest.fixture
def served(tmp_path):
    """A real HTTP server on 127.0.0.1 (in a thread) serving ``served.root``;
    ``served.requests`` lists the paths requested."""
    root = tmp_path / 'www'
    root.mkdir()
    requests = []

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_head(self):  # every GET and HEAD
            requests.append(self.path)
            return super().send_head()

    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.root = root
    server.requests = requests  # the paths requested, in order
    server.url = f'http://127.0.0.1:{server.server_address[1]}'
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """torch's hub cache (where URL checkpoints are downloaded) in a temp folder."""
    home = tmp_path / 'torch_home'
    monkeypatch.setenv('TORCH_HOME', str(home))
    return home / 'hub' / 'checkpoints'
