"""Runner-level pieces: checkpoint loading and saving, and the hooks that use them.

Importing registers the loader schemes (every mmengine scheme under one safe
policy, plus ``trusted://`` and ``stage://``) into mmengine's ``CheckpointLoader``,
the ``atomic_local`` file backend into mmengine's file backends, and the hooks
into mmseg's HOOKS.
"""
from . import atomic_io, checkpoint  # noqa: F401  (register schemes and backend)
from .hooks import AtomicCheckpointHook, CheckpointFitHook, ExactResumeHook

__all__ = ['AtomicCheckpointHook', 'CheckpointFitHook', 'ExactResumeHook']
