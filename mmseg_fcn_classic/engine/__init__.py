"""Runner-level pieces: checkpoint loading and saving, and the hooks.

Importing registers the loader schemes (every mmengine scheme under one safe
policy, plus ``trusted://`` and ``stage://``) into mmengine's ``CheckpointLoader``,
the ``atomic_local`` file backend into mmengine's file backends, and the hooks
(atomic checkpoints, checkpoint fit, exact resume, channels_last, compile-ready
param groups) into mmseg's HOOKS.
"""
from . import atomic_io, checkpoint  # noqa: F401  (register schemes and backend)
from .hooks import (AtomicCheckpointHook, ChannelsLastHook, CheckpointFitHook,
                    ExactResumeHook, PlainParamGroupsHook)

__all__ = [
    'AtomicCheckpointHook', 'ChannelsLastHook', 'CheckpointFitHook', 'ExactResumeHook',
    'PlainParamGroupsHook'
]
