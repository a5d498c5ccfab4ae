"""What a benchmark reads off the machine: times, memory peaks, FLOPs, GEMM rate."""
import ctypes
import gc
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, List, Optional, Sequence, Tuple

import torch


def summarize(times: Sequence[float]) -> dict:
    """Median, best and all of a list of durations (seconds)."""
    return dict(times_s=[round(t, 6) for t in times],
                median_s=statistics.median(times), best_s=min(times))


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing on the CPU."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def proc_status(field: str) -> Optional[int]:
    """A ``/proc/self/status`` memory field in bytes (None where unavailable)."""
    try:
        with open('/proc/self/status') as f:
            match = re.search(rf'^{field}:\s+(\d+) kB', f.read(), re.M)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def malloc_trim() -> None:
    """Hand free heap memory back to the OS (glibc), so RSS is live memory."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _maxrss() -> int:
    import resource
    scale = 1 if sys.platform == 'darwin' else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def rusage() -> Tuple[int, float]:
    """This process's minor page faults and system CPU seconds so far."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_minflt, usage.ru_stime


class PeakMemory:
    """Peak memory of a ``with`` block above the memory at its start.

    CPU (Linux): the peak resident set size ``VmHWM``, reset to the current size
    through ``/proc/self/clear_refs``, minus ``VmRSS`` at the start (after a
    garbage collection and ``malloc_trim``). Elsewhere, ``ru_maxrss`` minus the
    start size, valid in a fresh process only. CUDA: ``max_memory_allocated`` minus
    ``memory_allocated`` at the start (the caching allocator's live tensors).

    Attributes:
        method (str): What was measured.
        peak_bytes (int): The increase, set on exit.
        start_bytes (int): The baseline.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.method = ''
        self.peak_bytes = 0
        self.start_bytes = 0
        self._hwm = False

    def __enter__(self) -> 'PeakMemory':
        gc.collect()
        if self.device.type == 'cuda':
            sync(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.start_bytes = torch.cuda.memory_allocated(self.device)
            self.method = 'torch.cuda.max_memory_allocated - memory_allocated'
            return self
        malloc_trim()
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            self._hwm = proc_status('VmHWM') is not None
        except OSError:
            self._hwm = False
        self.start_bytes = proc_status('VmRSS') or _maxrss()
        self.method = ('VmHWM (reset via /proc/self/clear_refs) - VmRSS at start'
                       if self._hwm else 'ru_maxrss - RSS at start')
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            sync(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        else:
            peak = proc_status('VmHWM') if self._hwm else _maxrss()
        self.peak_bytes = max(0, peak - self.start_bytes)


def count_flops(fn: Callable[[], Any]) -> Tuple[Any, int]:
    """Run ``fn`` once under ``torch.utils.flop_counter.FlopCounterMode``.

    Returns:
        tuple: ``fn``'s result and the FLOPs counted (a multiply-add is 2).
    """
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        out = fn()
    return out, int(counter.get_total_flops())


def time_fn(fn: Callable[[], Any], device: torch.device, reps: int) -> List[float]:
    """Wall times of ``reps`` calls (device synchronised around each)."""
    times = []
    for _ in range(reps):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return times


class GemmProbe:
    """The machine's matrix-product rate, sampled again and again during a run.

    ``size`` x ``size`` products in ``dtype``; each :meth:`sample` times ``reps``
    of them. :func:`benchmarks.workers.measure` samples between the rounds of
    model steps, so the peak is the best the machine gave at any point of the run,
    under the same conditions as the models.

    Args:
        device (torch.device): Where to multiply.
        size (int): Matrix side. Defaults to 4096.
        reps (int): Products per sample. Defaults to 3.
        dtype (torch.dtype): Defaults to float32.
    """

    def __init__(self, device: torch.device, size: int = 4096, reps: int = 3,
                 dtype: torch.dtype = torch.float32) -> None:
        gen = torch.Generator(device='cpu').manual_seed(0)
        self.a = torch.randn(size, size, generator=gen).to(device=device,
                                                            dtype=dtype)
        self.b = torch.randn(size, size, generator=gen).to(device=device,
                                                            dtype=dtype)
        self.out = torch.empty(size, size, device=device, dtype=dtype)
        self.device, self.size, self.reps, self.dtype = device, size, reps, dtype
        self.times: List[float] = []
        torch.mm(self.a, self.b, out=self.out)  # warm-up

    def sample(self) -> None:
        self.times += time_fn(lambda: torch.mm(self.a, self.b, out=self.out),
                              self.device, self.reps)

    def result(self) -> dict:
        """``size``, ``samples``, ``dtype``, ``best_gflops``, ``median_gflops``."""
        flops = 2 * self.size**3
        return dict(size=self.size, samples=len(self.times),
                    dtype=str(self.dtype).replace('torch.', ''),
                    best_gflops=flops / min(self.times) / 1e9,
                    median_gflops=flops / statistics.median(self.times) / 1e9)


def machine_info(device: torch.device) -> dict:
    """CPU model, cores, library versions, threads, and the GPU's name."""
    import mmcv
    import mmengine
    import mmseg
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True,
                             timeout=10).stdout
        match = re.search(r'^Model name:\s*(.+)$', out, re.M)
        cpu = match.group(1).strip() if match else cpu
    except (OSError, subprocess.SubprocessError):
        pass
    info = dict(
        cpu_model=cpu, logical_cpus=os.cpu_count(),
        usable_cpus=len(os.sched_getaffinity(0))
        if hasattr(os, 'sched_getaffinity') else os.cpu_count(),
        python=platform.python_version(), torch=torch.__version__,
        mmseg=mmseg.__version__, mmengine=mmengine.__version__,
        mmcv=mmcv.__version__, torch_threads=torch.get_num_threads(),
        mkldnn=torch.backends.mkldnn.is_available(),
        platform=platform.platform())
    if device.type == 'cuda':
        info.update(gpu=torch.cuda.get_device_name(device),
                    cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(),
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
                    tf32_cudnn=torch.backends.cudnn.allow_tf32)
    return info


def load_average() -> Optional[List[float]]:
    """The 1/5/15-minute load averages (None where unavailable)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None
