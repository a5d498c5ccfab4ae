# Mixing in mmseg's own configs: VGG16FC + ClassicFCNHead (FCN-8s) on mmseg's
# PASCAL VOC 2012 + aug dataset base (its 512x512 crops and its data layout under
# data/VOCdevkit, see mmseg's dataset docs). `mmseg::` needs setuptools<82 at run
# time (mmengine 0.10.7 resolves it with pkg_resources).
_base_ = [
    './_base_/models/fcn8s_vgg16.py', 'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/schedules/schedule_20k.py', './_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(size=(512, 512), size_divisor=None),
    decode_head=dict(loss_decode=dict(reduction='mean')))
# replaces mmseg's IoUMetric (and its iou_metrics argument) rather than merging
val_evaluator = dict(_delete_=True, type='FCNMetric')
test_evaluator = val_evaluator
# mmseg's schedule with our atomic checkpoint saves (same options as CheckpointHook)
# and mmseg's visualization hook, silent while off
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'),
                     visualization=dict(type='FCNSegVisualizationHook'))
