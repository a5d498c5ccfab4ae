# nyud-fcn32s-color-hha/net.py: two full VGG16 trunks (conv1_1color ... fc7color,
# conv1_1hha ... fc7hha), score_fused = 0.5 score_frcolor + 0.5 score_frhha, then one
# upscore and the crop.
_base_ = ['./fcn32s_vgg16_nyud.py']
modalities = ('color', 'hha')
model = dict(
    data_preprocessor=dict(modalities=modalities),
    backbone=dict(_delete_=True, type='LateFusionVGG16FC', modalities=modalities),
    decode_head=dict(type='LateFusionFCNHead', modalities=modalities,
                     fusion_weights=(0.5, 0.5)))  # reference Eltwise coeff
