import torch

from benchmarks.probes import PeakMemory


def test_peak_memory_sees_an_allocation():
    with PeakMemory(torch.device('cpu')) as mem:
        x = torch.ones(16 * 2**20 // 4)  # 16 MiB, touched
        del x
    assert mem.peak_bytes >= 15 * 2**20, mem.method
