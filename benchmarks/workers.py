"""Each model case in a worker process of its own, driven over a pipe.

A fresh process per case gives each its own memory peak and allocator history, and
lets process-wide settings (``tune_glibc_malloc``) apply to one case only.
:func:`measure` starts all workers together and runs their timed steps in turn
(case 1 step, case 2 step, ..., repeated), one at a time, so that load coming and
going on a shared machine slows every case alike.

Protocol: the parent starts ``python -m benchmarks.workers SPEC_JSON RESULT_FD``.
The worker builds its :class:`~benchmarks.cases.Case` and answers ``{"ready":
true}``, then reads one JSON command per line on stdin (``{"cmd": "begin" |
"step" | "end", "phase": ...}`` or ``{"cmd": "result"}``) and writes one JSON reply
per line to ``RESULT_FD``, a pipe of its own, so that library output on stdout
cannot garble the replies. A failure is answered ``{"error": traceback}``.
"""
import gc
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
from typing import List, Sequence

from .cases import PHASES, Case, case_name, phases, run_case
from .probes import GemmProbe, malloc_trim

#: The folder that holds the ``benchmarks`` package (a clone's root).
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


class Worker:
    """A :class:`~benchmarks.cases.Case` in its own Python process.

    Args:
        spec (dict): The case (see :func:`benchmarks.cases.case_specs`).
    """

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        read_fd, write_fd = os.pipe()
        self.log = tempfile.TemporaryFile('w+')
        env = dict(os.environ)
        env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'benchmarks.workers', json.dumps(spec),
             str(write_fd)],
            stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
            pass_fds=(write_fd, ), env=env, text=True)
        os.close(write_fd)
        self.replies = os.fdopen(read_fd)

    def wait_ready(self) -> dict:
        return self._reply()

    def call(self, cmd: str, **kwargs) -> dict:
        self.proc.stdin.write(json.dumps(dict(cmd=cmd, **kwargs)) + '\n')
        self.proc.stdin.flush()
        return self._reply()

    def _reply(self) -> dict:
        line = self.replies.readline()
        reply = json.loads(line) if line else dict(error='worker exited')
        if 'error' in reply:
            self.close()
            self.log.seek(0)
            raise RuntimeError(f'benchmark worker for {case_name(self.spec)} failed: '
                               f'{reply["error"]}\n{self.log.read()[-6000:]}')
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.replies.close()


def serve(spec: dict, result_fd: int) -> None:
    """The worker's side of :class:`Worker`: build the case, answer commands."""
    import traceback
    out = os.fdopen(result_fd, 'w')

    def send(obj: dict) -> None:
        out.write(json.dumps(obj) + '\n')
        out.flush()

    try:
        case = Case(spec)
    except Exception:  # noqa: BLE001  (reported to the parent)
        send(dict(error=traceback.format_exc()))
        return
    send(dict(ready=True))
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg['cmd'] == 'result':
                send(case.result())
                break
            send(getattr(case, msg['cmd'])(msg['phase']))
        except Exception:  # noqa: BLE001
            send(dict(error=traceback.format_exc()))
            return


def measure(specs: List[dict], isolate: bool = True,
            probes: Sequence[GemmProbe] = ()) -> List[dict]:
    """Measure every case.

    Isolated (default): each case in its own :class:`Worker`, their timed steps
    in turn. Otherwise the cases run one after the other in this process (their
    memory peaks then share one allocator history). The GEMM ``probes`` are
    sampled whenever no case is computing: once the workers are ready, and after
    every round (or case).

    Returns:
        list[dict]: The figures of each case, in the order of ``specs``.
    """
    def sample_probes():
        for probe in probes:
            probe.sample()

    if not isolate:
        results = []
        sample_probes()
        for spec in specs:
            results.append(run_case(spec))
            gc.collect()
            malloc_trim()
            sample_probes()
        return results
    workers = [Worker(spec) for spec in specs]
    try:
        for w in workers:
            w.wait_ready()
        sample_probes()
        for phase in PHASES:
            active = [w for w in workers if phase in dict(phases(w.spec))]
            for w in active:
                w.call('begin', phase=phase)
            reps = max([dict(phases(w.spec))[phase] for w in active] or [0])
            for rep in range(reps):
                times = []
                for w in active:
                    if rep < dict(phases(w.spec))[phase]:
                        times.append(w.call('step', phase=phase)['time_s'])
                sample_probes()
                print(f'{phase} round {rep + 1}/{reps}: ' +
                      ' '.join(f'{t:.2f}s' for t in times), flush=True)
            for w in active:
                w.call('end', phase=phase)
        return [w.call('result') for w in workers]
    finally:
        for w in workers:
            w.close()


if __name__ == '__main__':
    serve(json.loads(sys.argv[1]), int(sys.argv[2]))
