# FCN-8s on polyps912 (EndoScene), following the published FCN-8s polyp tutorial.
# Tutorial test result: accuracy 0.925, Jaccard background 0.941, polyp 0.427,
# mean 0.684 (FCNMetric reports these as aAcc, IoU.background, IoU.polyp, mIoU in %).
_base_ = [
    './_base_/models/fcn8s_vgg16.py', './_base_/datasets/polyps912.py',
    './_base_/schedules/fcn_polyps_adam.py', './_base_/default_runtime.py'
]
model = dict(
    decode_head=dict(
        num_classes=2,
        # per-pixel softmax averaged over the non-void pixels (Adam is scale-free)
        loss_decode=dict(reduction='mean', avg_non_ignore=True)))
