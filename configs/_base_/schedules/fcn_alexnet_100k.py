# Reference solver of voc-fcn-alexnet (solver.prototxt, solve.py): normalised loss,
# standard momentum and gradient accumulation.
optimizer = dict(
    type='SGD',
    lr=1e-4,  # reference base_lr ("lr for normalized softmax"); lr_policy "fixed"
    momentum=0.9,  # reference momentum ("standard momentum")
    weight_decay=5e-4,  # reference weight_decay
    fused=True)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    # reference iter_size 20: gradients of 20 images averaged into one update
    accumulative_counts=20,
    # net.py: the trunk's layers have no param block (Caffe's default lr_mult 1,
    # decay_mult 1 for weights and biases); score_fr: bias at 2x lr, no decay
    paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0,
                       custom_keys={'backbone': dict(lr_mult=1.0, decay_mult=1.0)}),
    # mmengine's default constructor; the frozen bilinear upscore is named once
    constructor='FCNOptimWrapperConstructor')
param_scheduler = []  # reference lr_policy: "fixed"
# reference max_iter 100000 updates of iter_size 20 images. mmengine counts
# forward/backward passes (one image each), so 2,000,000; solve.py scores and the
# solver snapshots every 4000 updates = 80,000 passes
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000000, val_interval=80000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # display: 20 updates
    logger=dict(type='LoggerHook', interval=400, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=80000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # mmseg's SegVisualizationHook, silent while off (--show-dir turns it on)
    visualization=dict(type='FCNSegVisualizationHook'))
