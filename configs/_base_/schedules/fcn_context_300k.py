# Reference solver of pascalcontext-fcn*/ (solver.prototxt, solve.py): the VOC
# solver (fixed lr set per stage, momentum 0.99, weight decay 5e-4, biases at 2x lr
# without decay, snapshot every 4000) for 300k iterations, scored every 8000.
_base_ = ['./fcn_voc_100k.py']
# reference max_iter 300000; solve.py: 50 x (solver.step(8000), then score)
train_cfg = dict(max_iters=300000, val_interval=8000)
