# Runtime shared by every config. Importing the plugin registers its components.
custom_imports = dict(imports=['mmseg_fcn_classic'], allow_failed_imports=False)
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=False,  # whole images of varying size: benchmarking would re-tune
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # tools/train.py switches to gloo without CUDA
)
vis_backends = [dict(type='LocalVisBackend')]
# mmseg's SegLocalVisualizer, also for the strided images of mmseg's
# browse_dataset.py (which OpenCV refuses to draw on)
visualizer = dict(
    type='FCNSegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
tta_model = dict(type='SegTTAModel')
# ExactResumeHook: --resume continues bit-for-bit (also restores the torch RNG that
# dropout uses). PlainParamGroupsHook: `compile = True` (torch.compile of the
# training step) can trace the optimizer step. On GPUs, add
# dict(type='ChannelsLastHook') to run model and inputs in channels_last.
custom_hooks = [dict(type='ExactResumeHook'), dict(type='PlainParamGroupsHook')]
