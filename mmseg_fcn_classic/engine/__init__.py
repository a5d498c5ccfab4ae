"""Runner-level pieces: the exact-resume hook and checkpoint loading.

Importing registers the hook into mmseg's HOOKS and the checkpoint loader schemes
(local files, ``trusted://``, ``stage://``) into mmengine's ``CheckpointLoader``.
"""
from . import checkpoint  # noqa: F401  (registers the loader schemes)
from .hooks import ExactResumeHook

__all__ = ['ExactResumeHook']
