# Reference solver of siftflow-fcn*/solver.prototxt and solve.py: the VOC nets' SGD
# (lr_policy fixed, momentum 0.99, weight decay 5e-4, biases at 2x lr without decay);
# the leaves set base_lr.
_base_ = ['./fcn_voc_100k.py']
# reference max_iter 300000; solve.py scores the test set after every 2000 steps
# (and itself stops after 50 x 2000 = 100k: --cfg-options train_cfg.max_iters=100000)
train_cfg = dict(max_iters=300000, val_interval=2000)
# the solver writes no snapshots; keep one per scoring, the newest five
default_hooks = dict(checkpoint=dict(interval=2000, max_keep_ckpts=5))
