# polyps912 schedule. The FCN-8s polyp tutorial trained with Adam at lr 1e-4 and kept
# the model with the best validation Jaccard. We keep Adam 1e-4: it is scale-free, so
# fine-tuning ImageNet VGG16 with new zero-initialised score layers needs no per-layer
# lr tuning (the reference VOC solver's lr 1e-10 only suits its summed loss on whole
# images), and the tutorial's numbers were obtained with it.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0),
    paramwise_cfg=dict(bias_decay_mult=0.0),
    # mmengine's default constructor; the frozen bilinear upscores are named once
    constructor='FCNOptimWrapperConstructor')
param_scheduler = []  # constant lr, as in the tutorial
# 547 training frames / batch 10 = 55 iterations per epoch: 10k iterations ~ 180
# epochs, validating every ~10 epochs and keeping the best mIoU (early stopping).
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000, val_interval=550)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmengine's CheckpointHook with atomic saves, pruning after the new file
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=550,
                    save_best='mIoU', rule='greater', max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # mmseg's SegVisualizationHook, silent while off (--show-dir turns it on)
    visualization=dict(type='FCNSegVisualizationHook'))
