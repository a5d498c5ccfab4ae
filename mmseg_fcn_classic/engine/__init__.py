"""Runner-level pieces: checkpoint loading and saving, and the hooks.

One module per job: :mod:`.policy` (what a checkpoint may contain and how it is
unpickled), :mod:`.stored_config` (configs stored in checkpoints are never used),
:mod:`.schemes` (every loader scheme under that policy), :mod:`.resume` (what a
bare ``--resume`` continues from), :mod:`.stage` (``stage://``), :mod:`.atomic_io`
(atomic saves), :mod:`.work_dir_lock` (one run per work dir), :mod:`.weights`
(strict weight loading), :mod:`.optimizers` and :mod:`.hooks`.

Importing registers the loader schemes (every mmengine scheme under one safe
policy, plus ``trusted://`` and ``stage://``) into mmengine's ``CheckpointLoader``,
the ``atomic_local`` file backend into mmengine's file backends, the optimizer
wrapper constructor into mmseg's OPTIM_WRAPPER_CONSTRUCTORS, and the hooks (atomic
checkpoints, checkpoint fit, exact resume, channels_last, compile-ready param
groups, visualization) into mmseg's HOOKS.
"""
from . import atomic_io, schemes  # noqa: F401  (register schemes and backend)
from .hooks import (AtomicCheckpointHook, ChannelsLastHook, CheckpointFitHook,
                    ExactResumeHook, FCNSegVisualizationHook, PlainParamGroupsHook)
from .optimizers import FCNOptimWrapperConstructor
from .policy import CheckpointReadError, CheckpointRefusedError, UntrustedPathError
from .resume import ResumeError
from .stored_config import StoredConfigError
from .work_dir_lock import WorkDirLockedError

__all__ = [
    'AtomicCheckpointHook', 'ChannelsLastHook', 'CheckpointFitHook',
    'CheckpointReadError', 'CheckpointRefusedError', 'ExactResumeHook',
    'FCNOptimWrapperConstructor', 'FCNSegVisualizationHook', 'PlainParamGroupsHook',
    'ResumeError', 'StoredConfigError', 'UntrustedPathError', 'WorkDirLockedError'
]
