from .channels_last_hook import ChannelsLastHook
from .exact_resume_hook import ExactResumeHook
from .plain_param_groups_hook import PlainParamGroupsHook

__all__ = ['ChannelsLastHook', 'ExactResumeHook', 'PlainParamGroupsHook']
