"""Graph capture: no graph breaks (so no host syncs) and traced graphs that crop
every input size exactly."""
import warnings

import pytest
import torch

from .conftest import randomize_, segmentor_cfg
from .test_encoder_decoder import _batch

VARIANTS = ['32s', '16s', '8s', '8s-atonce']
LOSSES = {
    'sum': dict(type='CrossEntropyLoss', reduction='sum'),
    'avg_non_ignore': dict(type='CrossEntropyLoss', avg_non_ignore=True),
    'class_weight': dict(type='CrossEntropyLoss', avg_non_ignore=True,
                         class_weight=[1.0, 2.0, 0.5]),
}


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _breaks(explain) -> str:
    return '\n'.join(str(r.reason) for r in explain.break_reasons)


@pytest.mark.parametrize('variant', VARIANTS)
def test_tensor_forward_is_one_graph(build, variant):
    model = build(segmentor_cfg(variant))
    randomize_(model.decode_head, upscore='bilinear')
    x = torch.rand(1, 3, 45, 61)
    for training in (False, True):
        model.train(training)
        with torch.set_grad_enabled(training):
            explain = torch._dynamo.explain(model)(x, mode='tensor')
        assert explain.graph_break_count == 0, _breaks(explain)
        assert explain.graph_count == 1


@pytest.mark.parametrize('loss', list(LOSSES))
def test_loss_is_one_graph(build, loss):
    """mmseg's own loss_by_feat breaks the graph three times (boolean indexing in
    ``accuracy``) and ``avg_non_ignore`` once more (``.item()``)."""
    cfg = segmentor_cfg('8s')
    cfg['decode_head']['loss_decode'] = LOSSES[loss]
    model = build(cfg).train()
    data = model.data_preprocessor(_batch([(45, 37), (30, 52)]), True)
    explain = torch._dynamo.explain(model)(
        data['inputs'], data['data_samples'], mode='loss')
    assert explain.graph_break_count == 0, _breaks(explain)


def test_predict_is_one_graph(build):
    model = build(segmentor_cfg('8s')).eval()
    data = model.data_preprocessor(_batch([(45, 37)]), False)
    with torch.no_grad():
        explain = torch._dynamo.explain(model)(
            data['inputs'], data['data_samples'], mode='predict')
    assert explain.graph_break_count == 0, _breaks(explain)


class _Net(torch.nn.Module):
    """Logits at the input's size (as the export helpers wrap a segmentor), or
    the segmentor's tensor mode."""

    def __init__(self, model, tensor_mode=False):
        super().__init__()
        self.model = model
        self.tensor_mode = tensor_mode

    def forward(self, x):
        if self.tensor_mode:
            return self.model(x, mode='tensor')
        return self.model.decode_head(self.model.backbone(x), out_size=x.shape[-2:])


@pytest.mark.parametrize('variant', ['32s', '8s'])
def test_jit_trace_crops_every_size(build, variant):
    model = build(segmentor_cfg(variant)).eval()
    randomize_(model.decode_head, upscore='bilinear')
    net = _Net(model)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        traced_net = torch.jit.trace(net, torch.rand(1, 3, 64, 64))
        traced_tensor_mode = torch.jit.trace(
            _Net(model, tensor_mode=True), torch.rand(1, 3, 64, 64))
        for size in [(64, 80), (33, 17), (1, 1), (97, 130)]:
            x = torch.rand(1, 3, *size)
            out = traced_net(x)
            assert out.shape[-2:] == size
            torch.testing.assert_close(out, net(x))
            torch.testing.assert_close(traced_tensor_mode(x), model(x, mode='tensor'))


def test_compile_true_trains_like_eager(tmp_path):
    """``cfg.compile = True`` (inductor) trains to the eager weights and logits.

    Kept cheap: a narrow model, 32x32 crops without flips (one shape, one
    compile), SGD without momentum (no optimizer-state recompile), 2 iterations.
    """
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmseg_fcn_classic.testing.narrow import make_tiny_data, write_tiny_config
    data = make_tiny_data(str(tmp_path / 'polyps'), n_train=4)
    extra = """
train_dataloader['dataset']['pipeline'] = [
    dict(type='LoadImageFromFile'), dict(type='LoadFCNAnnotations'),
    dict(type='RandomCrop', crop_size=(32, 32)), dict(type='PackSegInputs')]
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, weight_decay=1e-4),
                     paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0))
"""
    path = write_tiny_config(str(tmp_path / 'tiny.py'), data, max_iters=2,
                             ckpt_interval=100, extra=extra,
                             custom_hooks=('PlainParamGroupsHook', ))
    models = {}
    # inductor draws dropout masks from the eager RNG (fallback_random), so both
    # runs see the same masks; one compile thread on the 2-core machine
    with torch._inductor.config.patch(fallback_random=True, compile_threads=1):
        for compile_ in (False, True):
            cfg = Config.fromfile(path)
            cfg.work_dir = str(tmp_path / f'work_{compile_}')
            cfg.compile = compile_
            # a visualizer of its own: mmengine keeps one per name per process
            cfg.visualizer.name = f'visualizer_{tmp_path.name}_{compile_}'
            runner = Runner.from_cfg(cfg)
            runner.train()
            models[compile_] = runner.model.eval()
    torch._dynamo.reset()
    x = torch.rand(1, 3, 40, 52, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        eager = models[False](x, mode='tensor')
        compiled = models[True](x, mode='tensor')
    assert eager.abs().max() > 1e-2  # the runs trained: logits left their zero init
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-4)
