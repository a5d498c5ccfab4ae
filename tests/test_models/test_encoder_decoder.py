"""VGG16FC + ClassicFCNHead inside mmseg's EncoderDecoder: train, predict, load."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from mmseg.utils import stack_batch

from .conftest import NUM_CLASSES, randomize_, segmentor_cfg


def _batch(sizes, seed=0):
    """Raw dataloader output: uint8 images and label maps of the given sizes."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8))
        sample = SegDataSample(metainfo=dict(ori_shape=(h, w), img_shape=(h, w)))
        label = torch.randint(0, NUM_CLASSES, (1, h, w), generator=gen)
        label[:, :2] = 255  # some ignored pixels
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('variant', ['32s', '16s', '8s', '8s-atonce'])
def test_train_steps_reduce_the_loss(build, variant):
    model = build(segmentor_cfg(variant))
    optim = OptimWrapper(torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3))
    data = _batch([(45, 37), (30, 52)])  # padded to a batch by the preprocessor
    losses = []
    for _ in range(6):
        log_vars = model.train_step(data, optim)
        losses.append(torch.as_tensor(log_vars['loss']).detach().item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0]

    loss, _ = model.parse_losses(model(**model.data_preprocessor(data, True), mode='loss'))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.decode_head.score_fr.weight.grad.abs().sum() > 0
    assert model.backbone.conv1_1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('size', [(1, 1), (7, 100), (61, 47), (500, 375)])
def test_predict_masks_have_image_size(build, size):
    model = build(segmentor_cfg('8s')).eval()
    randomize_(model.decode_head)
    data = model.data_preprocessor(_batch([size]), False)
    with torch.no_grad():
        result = model.predict(**data)[0]
    assert result.pred_sem_seg.shape == size
    assert result.seg_logits.shape == size


def test_predict_padded_batch_of_two_sizes(build):
    """Images of different sizes padded into one batch, as the preprocessor's test
    branch pads them (``stack_batch`` with a ``size_divisor``)."""
    model = build(segmentor_cfg('8s')).eval()
    randomize_(model.decode_head)
    sizes = [(45, 37), (30, 52)]
    data = _batch(sizes)
    images = [img.float() for img in data['inputs']]
    inputs, pad_infos = stack_batch(images, size_divisor=32, pad_val=0)
    assert inputs.shape[-2:] == (64, 64)
    for sample, pad_info in zip(data['data_samples'], pad_infos):
        sample.set_metainfo(pad_info)
    with torch.no_grad():
        results = model.predict(inputs, data['data_samples'])
    assert [r.pred_sem_seg.shape for r in results] == sizes
    # the head's logits covered the whole padded batch, unresized
    with torch.no_grad():
        logits = model.encode_decode(inputs, [s.metainfo for s in data['data_samples']])
    assert logits.shape[-2:] == (64, 64)


def test_preprocessor_test_padding(build):
    cfg = segmentor_cfg('16s')
    cfg['data_preprocessor']['test_cfg'] = dict(size_divisor=32)
    model = build(cfg).eval()
    data = model.data_preprocessor(_batch([(45, 37), (45, 37)]), False)
    assert data['inputs'].shape[-2:] == (64, 64)
    with torch.no_grad():
        results = model.predict(**data)
    assert [r.pred_sem_seg.shape for r in results] == [(45, 37)] * 2


@pytest.mark.parametrize('variant', ['32s', '8s'])
def test_slide_inference(build, variant):
    slide = build(segmentor_cfg(variant, test_cfg=dict(
        mode='slide', crop_size=(33, 29), stride=(20, 16)))).eval()
    randomize_(slide.decode_head)
    data = slide.data_preprocessor(_batch([(61, 47)]), False)
    with torch.no_grad():
        assert slide.predict(**data)[0].pred_sem_seg.shape == (61, 47)

    # a window covering the image gives exactly the whole-image logits
    whole = build(segmentor_cfg(variant)).eval()
    whole.load_state_dict(slide.state_dict())
    big = build(segmentor_cfg(variant, test_cfg=dict(
        mode='slide', crop_size=(64, 64), stride=(32, 32)))).eval()
    big.load_state_dict(slide.state_dict())
    with torch.no_grad():
        a = whole.predict(**whole.data_preprocessor(_batch([(61, 47)]), False))
        b = big.predict(**big.data_preprocessor(_batch([(61, 47)]), False))
    torch.testing.assert_close(a[0].seg_logits.data, b[0].seg_logits.data)


def test_fcn8s_from_fcn16s_checkpoint(build, tmp_path):
    fcn16s = build(segmentor_cfg('16s'))
    randomize_(fcn16s)
    path = str(tmp_path / 'fcn16s.pth')
    torch.save({'state_dict': fcn16s.state_dict(), 'meta': {}}, path)
    fcn8s = build(segmentor_cfg(
        '8s', init_cfg=dict(type='Pretrained', checkpoint=path)))
    fcn8s.init_weights()
    head = fcn8s.decode_head
    assert torch.all(head.score_pool3.weight == 0) and torch.all(head.score_pool3.bias == 0)
    new = fcn8s.state_dict()
    for key, value in fcn16s.state_dict().items():
        if key != 'decode_head.upscore16.weight':  # FCN-8s has upscore_pool4 + 8
            assert torch.equal(new[key], value), key
    assert head.upscore8.weight[0, 0].max() > head.upscore8.weight[0, 1].abs().max()


def test_full_size_fcn8s_has_134_5m_parameters(build):
    model = build(dict(type='EncoderDecoder', backbone=dict(type='VGG16FC'),
                       decode_head=dict(type='ClassicFCNHead', num_classes=21)))
    total = sum(p.numel() for p in model.parameters())
    assert round(total / 1e6, 1) == 134.5
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert frozen == 21 * 21 * (4 * 4 + 4 * 4 + 16 * 16)  # the three upscores


def test_ddp_without_find_unused_parameters(build, tmp_path):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    model = build(segmentor_cfg('8s', backbone=dict(
        type='VGG16FC', widths=(4, 8, 8, 16, 16), fc_channels=16, frozen_stages=1)))
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store', rank=0,
                            world_size=1)
    try:
        ddp = DistributedDataParallel(model, find_unused_parameters=False)
        for _ in range(2):  # an unused parameter fails the second iteration
            data = model.data_preprocessor(_batch([(40, 36)]), True)
            losses = ddp(**data, mode='loss')
            sum(v for k, v in losses.items() if 'loss' in k).backward()
    finally:
        dist.destroy_process_group()
