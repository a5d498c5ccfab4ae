# FCN-16s RGB-HHA late fusion, beyond the zoo: the paper's best NYUDv2 net, never
# released. From FCN-32s RGB-HHA's final weights; pool4 of each trunk is scored
# (score_pool4color, score_pool4hha, zero-initialised), fused 0.5 / 0.5 and added.
# Reference result (CVPR paper Table 4, FCN-16s RGB-HHA): mean IU 34.0
_base_ = './fcn32s_vgg16_nyud-color-hha.py'
model = dict(
    backbone=dict(init_cfg=None),  # everything comes from the 32s stage
    decode_head=dict(skips=('pool4', ), init_cfg=None))
# no reference solver: the zoo's staging rule, lr / 100 from the 32s stage (1e-12)
optim_wrapper = dict(optimizer=dict(lr=1e-14))
load_from = 'stage://work_dirs/fcn32s_vgg16_nyud-color-hha'
