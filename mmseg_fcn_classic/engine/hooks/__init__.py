from .checkpoint_fit_hook import CheckpointFitHook
from .checkpoint_hook import AtomicCheckpointHook
from .exact_resume_hook import ExactResumeHook

__all__ = ['AtomicCheckpointHook', 'CheckpointFitHook', 'ExactResumeHook']
