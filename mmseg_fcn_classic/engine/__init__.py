"""Runner-level pieces: hooks (exact resume, channels_last, compile-ready param
groups) and checkpoint loading.

Importing registers the hooks into mmseg's HOOKS and the checkpoint loader schemes
(local files, ``trusted://``, ``stage://``) into mmengine's ``CheckpointLoader``.
"""
from . import checkpoint  # noqa: F401  (registers the loader schemes)
from .hooks import ChannelsLastHook, ExactResumeHook, PlainParamGroupsHook

__all__ = ['ChannelsLastHook', 'ExactResumeHook', 'PlainParamGroupsHook']
