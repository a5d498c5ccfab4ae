"""Process-wide runtime settings (not model code).

:func:`tune_glibc_malloc`: glibc serves every allocation above its mmap threshold
(at most 32 MB by default) with a fresh ``mmap`` and unmaps it on free, so a CPU
training step of a large model page-faults on every activation and gradient.
Keeping freed memory in the heap removes those faults; the resident size then
stays at its peak instead of dropping between steps. Outputs do not change.
"""
import ctypes


#: glibc ``mallopt`` parameters (``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_glibc_malloc(mmap_threshold: int = 1 << 30,
                      trim_threshold: int = 2**31 - 1) -> bool:
    """Keep freed memory in this process's heap instead of returning it to the OS.

    Raises glibc's mmap threshold (allocations below it come from the heap) and
    its trim threshold (free memory at the top of the heap is kept up to it), so
    that a training loop reuses the same pages every step instead of page-faulting
    fresh ones. Outputs do not change. Equivalent to starting Python with
    ``MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=2147483647``.
    Call it early (before the model allocates); it cannot be undone.

    Args:
        mmap_threshold (int): Bytes. Defaults to 1 GiB.
        trim_threshold (int): Bytes. Defaults to 2 GiB - 1.

    Returns:
        bool: Whether both settings were accepted (False off glibc).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and bool(
        mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))
