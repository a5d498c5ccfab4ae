# Reference NYUDv2 solvers (nyud-fcn32s-*/solver.prototxt, solve.py): the VOC solver
# (fixed lr, momentum 0.99, weight decay 5e-4, biases 2x lr without decay), with a
# snapshot and a test every 2000 iterations.
_base_ = ['./fcn_voc_100k.py']
# solve.py runs 50 x solver.step(2000) = 100,000 iterations (the solver's max_iter
# 300000 is never reached)
train_cfg = dict(max_iters=100000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))  # reference snapshot: 2000
