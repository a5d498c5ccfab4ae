"""The RGB-D models: LateFusionVGG16FC + LateFusionFCNHead (nyud-fcn32s-color-hha),
the early-fusion conv1_1 surgery (nyud-fcn32s-color-d) and
MultiModalDataPreProcessor."""
import pytest
import torch

from mmseg_fcn_classic.models.backbones.vgg16_fc import VGG16FC
from mmseg_fcn_classic.models.utils.fcn_spec import head_inputs

from .conftest import FC_CHANNELS, WIDTHS, build_model, randomize_

MODALITIES = ('color', 'hha')


def late_fusion(skips=(), num_classes=3, **head):
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='MultiModalDataPreProcessor', modalities=MODALITIES,
                               size_divisor=1),
        backbone=dict(type='LateFusionVGG16FC', modalities=MODALITIES, widths=WIDTHS,
                      fc_channels=FC_CHANNELS),
        decode_head=dict(type='LateFusionFCNHead', modalities=MODALITIES,
                         num_classes=num_classes,
                         **head_inputs(skips, WIDTHS, FC_CHANNELS), **head),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def single(modality, skips=(), num_classes=3):
    return dict(late_fusion(skips, num_classes),
                data_preprocessor=dict(type='MultiModalDataPreProcessor',
                                       modalities=(modality, )),
                backbone=dict(type='VGG16FC', widths=WIDTHS, fc_channels=FC_CHANNELS),
                decode_head=dict(type='ClassicFCNHead', num_classes=num_classes,
                                 **head_inputs(skips, WIDTHS, FC_CHANNELS)))


def test_names_are_the_references():
    model = build_model(late_fusion(skips=('pool4', )))
    keys = set(model.state_dict())
    assert {'backbone.color.conv1_1.weight', 'backbone.hha.fc7.bias',
            'decode_head.score_frcolor.weight', 'decode_head.score_frhha.bias',
            'decode_head.score_pool4color.weight', 'decode_head.score_pool4hha.weight',
            'decode_head.upscore2.weight', 'decode_head.upscore16.weight'} <= keys
    assert not any(k.startswith('decode_head.score_fr.') for k in keys)
    head = model.decode_head
    assert all(torch.count_nonzero(p) == 0 for n, p in head.named_parameters()
               if n.startswith('score'))


def test_each_trunk_reads_its_channels_and_scores_are_averaged():
    model = build_model(late_fusion()).eval()
    randomize_(model, seed=2, upscore='bilinear')
    x = torch.randn(1, 6, 37, 29) * 30
    with torch.no_grad():
        feats = model.backbone(x)
        color = model.backbone.color(x[:, :3])[-1]
        hha = model.backbone.hha(x[:, 3:])[-1]
        torch.testing.assert_close(feats[-1][0], color)
        torch.testing.assert_close(feats[-1][1], hha)
        head = model.decode_head
        fused = 0.5 * head.score_frcolor(color) + 0.5 * head.score_frhha(hha)
        expected = head.upscore(fused)[:, :, 19:19 + 37, 19:19 + 29]
        torch.testing.assert_close(head(feats, out_size=(37, 29)), expected)


def test_fusion_weights_and_bad_arguments():
    head = build_model(late_fusion(fusion_weights=(1.0, 0.0))['decode_head'])
    assert head.fusion_weights == (1.0, 0.0)
    with pytest.raises(ValueError, match='one fusion weight per modality'):
        build_model(late_fusion(fusion_weights=(1.0, ))['decode_head'])
    with pytest.raises(ValueError, match='at_once'):
        build_model(late_fusion(at_once=True)['decode_head'])
    with pytest.raises(ValueError, match='two or more modalities'):
        build_model(dict(type='LateFusionVGG16FC', modalities=('color', )))
    with pytest.raises(ValueError, match='one map per modality'):
        head(tuple(torch.zeros(1, FC_CHANNELS, 2, 2) for _ in range(3)))


def test_staged_from_the_single_modality_nets(tmp_path):
    """surgery.transplant(..., suffix=modality): each trunk and score_fr<modality>
    from its modality's FCN-32s; the skips of a 16s head stay at zero."""
    paths, states = {}, {}
    for seed, modality in enumerate(MODALITIES):
        net = build_model(single(modality))
        randomize_(net, seed=seed)
        states[modality] = net.state_dict()
        paths[modality] = str(tmp_path / f'{modality}.pth')
        torch.save({'state_dict': states[modality], 'meta': {}}, paths[modality])
    init = dict(type='Pretrained', checkpoint=paths)
    model = build_model(dict(late_fusion(skips=('pool4', )),
                             backbone=dict(late_fusion()['backbone'], init_cfg=init)))
    model.decode_head.init_cfg = init
    model.init_weights()
    sd = model.state_dict()
    for modality in MODALITIES:
        src = states[modality]
        for key in ('conv1_1.weight', 'conv3_2.bias', 'fc6.weight', 'fc7.bias'):
            assert torch.equal(sd[f'backbone.{modality}.{key}'], src[f'backbone.{key}'])
        for p in ('weight', 'bias'):
            assert torch.equal(sd[f'decode_head.score_fr{modality}.{p}'],
                               src[f'decode_head.score_fr.{p}'])
            assert torch.count_nonzero(sd[f'decode_head.score_pool4{modality}.{p}']) == 0
    with pytest.raises(ValueError, match="one file per modality"):
        model.decode_head.load_modality_scores({'color': paths['color']})


def test_one_checkpoint_for_every_trunk(tmp_path):
    state = VGG16FC(widths=WIDTHS, fc_channels=FC_CHANNELS).state_dict()
    path = str(tmp_path / 'vgg16.pth')
    torch.save(state, path)
    backbone = build_model(dict(late_fusion()['backbone'],
                                init_cfg=dict(type='Pretrained', checkpoint=path)))
    backbone.init_weights()
    for modality in MODALITIES:
        assert torch.equal(getattr(backbone, modality).conv1_1.weight,
                           state['conv1_1.weight'])
    with pytest.raises(ValueError, match="one per modality"):
        backbone._checkpoints({'color': path})


def test_early_fusion_init_is_the_color_d_surgery(tmp_path):
    """conv1_1_bgrd: VGG16's B, G, R filters, and their mean for depth."""
    torch.manual_seed(0)
    state = VGG16FC(widths=WIDTHS, fc_channels=FC_CHANNELS).state_dict()
    path = str(tmp_path / 'vgg16.pth')
    torch.save(state, path)
    net = build_model(dict(type='VGG16FC', in_channels=4, widths=WIDTHS,
                           fc_channels=FC_CHANNELS, init_cfg=dict(
                               type='Pretrained', checkpoint=path,
                               extra_channels='mean')))
    net.init_weights()
    w, vgg = net.conv1_1.weight.detach(), state['conv1_1.weight']
    assert torch.equal(w[:, :3], vgg)
    torch.testing.assert_close(w[:, 3], vgg.mean(dim=1), rtol=0, atol=1e-7)
    assert torch.equal(net.conv1_1.bias, state['conv1_1.bias'])
    assert torch.equal(net.conv2_1.weight, state['conv2_1.weight'])
    plain = build_model(dict(type='VGG16FC', in_channels=4, widths=WIDTHS,
                             fc_channels=FC_CHANNELS,
                             init_cfg=dict(type='Pretrained', checkpoint=path)))
    with pytest.raises(ValueError, match=r'conv1_1.weight: checkpoint \(4, 3, 3, 3\) '
                                         r'vs model \(4, 4, 3, 3\)'):
        plain.init_weights()


def test_preprocessor_normalises_each_modality():
    pre = build_model(dict(type='MultiModalDataPreProcessor',
                           modalities=('color', 'hha', 'depth')))
    img = torch.arange(7.).reshape(7, 1, 1).expand(7, 2, 3).clone()
    out = pre(dict(inputs=[img], data_samples=None))['inputs'][0]
    means = torch.tensor([116.190, 97.203, 92.318, 132.431, 94.076, 118.477, 7.844])
    torch.testing.assert_close(out[:, 0, 0], torch.arange(7.) - means)
    conv = pre.modality_conventions()
    assert [(c['name'], c['channels'], c['channel_order'], c['transform'])
            for c in conv] == [('color', 3, 'bgr', None), ('hha', 3, 'rgb', None),
                               ('depth', 1, None, 'log')]
    assert conv[2]['mean'] == [7.844]
    from mmseg_fcn_classic.apis.deploy import input_convention
    holder = torch.nn.Module()
    holder.data_preprocessor = build_model(dict(type='MultiModalDataPreProcessor',
                                                modalities=('hha', )))
    conv = input_convention(holder)  # HHA in file order: 'rgb' of a BGR reading
    assert (conv['channel_order'], conv['input']) == ('rgb', 'image')
    assert conv['mean'] == [132.431, 94.076, 118.477]
    with pytest.raises(ValueError, match=r"expects 7 channels.*shape \(3, 2, 3\)"):
        pre(dict(inputs=[img[:3]], data_samples=None))
    with pytest.raises(ValueError, match='swaps no channels'):
        build_model(dict(type='MultiModalDataPreProcessor', bgr_to_rgb=True))
    with pytest.raises(ValueError, match='modalities must be distinct names'):
        build_model(dict(type='MultiModalDataPreProcessor', modalities=('rgb', )))


def test_late_fusion_trains_a_step():
    model = build_model(late_fusion(skips=('pool4', ))).train()
    randomize_(model, seed=3, upscore='bilinear')
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    sample = SegDataSample(gt_sem_seg=PixelData(
        data=torch.randint(0, 3, (1, 21, 26))))
    sample.set_metainfo(dict(img_shape=(21, 26), ori_shape=(21, 26)))
    data = model.data_preprocessor(dict(inputs=[torch.rand(6, 21, 26) * 255],
                                        data_samples=[sample]), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    losses['decode.loss_ce'].backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    assert grads['backbone.hha.conv1_1.weight'].abs().sum() > 0
