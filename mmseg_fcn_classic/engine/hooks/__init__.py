from .channels_last_hook import ChannelsLastHook
from .checkpoint_fit_hook import CheckpointFitHook
from .checkpoint_hook import AtomicCheckpointHook
from .exact_resume_hook import ExactResumeHook
from .plain_param_groups_hook import PlainParamGroupsHook
from .visualization_hook import FCNSegVisualizationHook

__all__ = [
    'AtomicCheckpointHook', 'ChannelsLastHook', 'CheckpointFitHook', 'ExactResumeHook',
    'FCNSegVisualizationHook', 'PlainParamGroupsHook'
]
