# Reference solver (voc-fcn*/solver.prototxt, solve.py).
optimizer = dict(
    type='SGD',
    lr=1e-10,  # reference base_lr (FCN-32s; 16s/8s leaves lower it); lr_policy "fixed"
    momentum=0.99,  # reference momentum
    weight_decay=5e-4,  # reference weight_decay
    # same update; the fused kernel adds the weight decay in place, where the
    # for-loop SGD allocates a fresh copy of every gradient per step (fc6's alone is
    # 4096x25088 floats)
    fused=True)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    # reference net.py: param=[dict(lr_mult=1, decay_mult=1), dict(lr_mult=2, decay_mult=0)]
    paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0),
    # mmengine's default constructor; the frozen bilinear upscores are named once
    constructor='FCNOptimWrapperConstructor')
param_scheduler = []  # reference lr_policy: "fixed"
# reference max_iter 100000; snapshot every 4000, scored every 4000 by solve.py
train_cfg = dict(type='IterBasedTrainLoop', max_iters=100000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),  # display: 20
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmengine's CheckpointHook with atomic saves, pruning after the new file
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=4000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # mmseg's SegVisualizationHook, silent while off (--show-dir turns it on)
    visualization=dict(type='FCNSegVisualizationHook'))
