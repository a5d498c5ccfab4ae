"""Hostile checkpoints built only from globals the weights-only policy allows.

:func:`save` is ``torch.save`` with Python's own pickler, whose ``reducer_override``
lets a test write exactly the opcodes an attacker would: :class:`Craft` pickles as
``callable(*args)`` plus an optional ``BUILD`` state, and an empty ``bytes`` as
``_codecs.encode('', 'latin1')`` (``torch.save`` would write ``builtins.bytes()``,
which the allowlist refuses). Every payload of issue 20 is a function here.
"""
import codecs
import copyreg
import pickle
import types

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from numpy._core.multiarray import _reconstruct


class Craft:
    """Pickles as ``REDUCE(func, args)`` then, if ``state`` is given, ``BUILD(state)``."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state


class _Pickler(pickle._Pickler):

    def reducer_override(self, obj):
        if type(obj) is HistoryBuffer and '_craft_state' in vars(obj):
            return copyreg.__newobj__, (HistoryBuffer, ), vars(obj)['_craft_state']
        if isinstance(obj, Craft):
            return ((obj.func, obj.args) if obj.state is None else
                    (obj.func, obj.args, obj.state))
        if type(obj) is bytes and not obj:
            return codecs.encode, ('', 'latin1')
        return NotImplemented


class _LegacyBombPickler(_Pickler):
    """Declares every storage with :attr:`numel` elements (legacy format only)."""
    numel = 0

    def save_pers(self, pid):
        if isinstance(pid, tuple) and pid and pid[0] == 'storage':
            pid = pid[:4] + (self.numel, ) + pid[5:]
        super().save_pers(pid)


def _module(pickler):
    return types.SimpleNamespace(Pickler=pickler, dump=pickle.dump, __name__='pickle')


def save(obj, path) -> str:
    """``torch.save`` (zip format) through :class:`_Pickler`."""
    torch.save(obj, path, pickle_module=_module(_Pickler), pickle_protocol=2)
    return str(path)


def runner_like(**message_hub) -> dict:
    """A checkpoint with the parts ``Runner.resume`` reads."""
    hub = dict(log_scalars={}, runtime_info={}, resumed_keys={})
    hub.update(message_hub)
    return {'meta': {'iter': 2, 'epoch': 0}, 'state_dict': {'w': torch.ones(2)},
            'message_hub': hub}


def array(shape, dtype, raw) -> Craft:
    """A numpy array rebuilt from ``(shape, dtype, raw)`` as numpy pickles one."""
    return Craft(_reconstruct, (np.ndarray, (0, ), b'b'), (1, shape, dtype, False, raw))


def zero_size_array(path, count: int = 10**15) -> str:
    """Issue 20, item 3: 10^15 elements of ``np.dtype([])`` in the message hub."""
    hub = runner_like(runtime_info={'x': np.empty(count, dtype=np.dtype([]))},
                      resumed_keys={'x': True})
    return save(hub, path)


def object_flag_dtype(path) -> str:
    """Item 4: a dtype whose state sets the object flags (numpy then raises
    ``TypeError: object pickle not returning list``)."""
    dtype = Craft(np.dtype, ('V8', False, True), (3, '|', None, None, None, 8, 1, 63))
    return save(runner_like(runtime_info={'x': array((1, ), dtype, b'\0' * 8)}), path)


def negative_shape(path) -> str:
    """Item 4: an array rebuilt with shape (-1,) (numpy raises ``ValueError``)."""
    hostile = Craft(_reconstruct, (np.ndarray, (-1, ), b'b'))
    return save(runner_like(runtime_info={'x': hostile}), path)


def negative_state_shape(path) -> str:
    """Item 4: an array whose state has shape (-1,) (numpy raises ``TypeError``)."""
    return save(runner_like(runtime_info={'x': array((-1, ), np.dtype('f8'), b'')}),
                path)


def history_buffer(state) -> HistoryBuffer:
    """A ``HistoryBuffer`` that pickles as ``state``, as mmengine pickles one."""
    buf = HistoryBuffer.__new__(HistoryBuffer)
    buf.__dict__['_craft_state'] = state
    return buf


def statistic(name) -> Craft:
    """``getattr(HistoryBuffer, name)``: how a buffer pickles its statistics."""
    return Craft(getattr, (HistoryBuffer, name))


def buffer_state(**statistics) -> dict:
    return dict(max_length=10, _log_history=np.ones(2), _count_history=np.ones(2),
                statistics_methods=statistics)


def remapped_mean(path) -> str:
    """Item 5: a buffer whose statistics map ``mean`` to ``max`` (mmengine merges
    them into the class-wide dictionary)."""
    buf = history_buffer(buffer_state(mean=statistic('max')))
    return save(runner_like(log_scalars={'train/loss': buf}), path)


def legacy_storage_bomb(path, storages: int = 100, numel: int = 3 << 28) -> str:
    """Risk list: a legacy-format file of a few kB declaring ``storages`` float
    storages of ``numel`` elements each (3 GiB with the default)."""
    _LegacyBombPickler.numel = numel
    tensors = {f't{i}': torch.zeros(1) for i in range(storages)}
    torch.save(tensors, path, pickle_module=_module(_LegacyBombPickler),
               pickle_protocol=2, _use_new_zipfile_serialization=False)
    return str(path)


#: Issue 20's payload for stored configs: plain data that a build runs.
OS_SYSTEM_CONFIG = "model = dict(type='os.system', command='touch {marker}')\n"
#: ... and the one that a parse runs (with ``rt_evil.py`` on ``sys.path``).
CUSTOM_IMPORTS_CONFIG = "custom_imports = dict(imports=['rt_evil'])\n"
#: ``rt_evil.py``: importing it writes the marker.
RT_EVIL = "open({marker!r}, 'w').close()\n"
