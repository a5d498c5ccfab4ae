"""tools/train.py --amp [bf16|fp16]: the optimizer wrapper it configures."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmseg_fcn_classic.tools.train import apply_amp, parse_args, resolve_amp_dtype
from tests.test_models.conftest import build_model, segmentor_cfg
from tests.test_models.test_encoder_decoder import _batch


def _cfg(**wrapper):
    return Config(dict(optim_wrapper=dict(
        dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)), **wrapper)))


@pytest.mark.parametrize('argv, amp', [
    ([], None), (['--amp'], 'auto'), (['--amp', 'bf16'], 'bf16'),
    (['--amp', 'fp16'], 'fp16')])
def test_amp_argument(argv, amp):
    assert parse_args(['x.py'] + argv).amp == amp


def test_amp_rejects_other_dtypes(capsys):
    with pytest.raises(SystemExit):
        parse_args(['x.py', '--amp', 'fp8'])
    assert "invalid choice: 'fp8'" in capsys.readouterr().err


def test_auto_picks_bf16_where_supported(monkeypatch):
    assert resolve_amp_dtype('auto', bf16_supported=True) == 'bf16'
    assert resolve_amp_dtype('auto', bf16_supported=False) == 'fp16'
    assert resolve_amp_dtype('fp16', bf16_supported=True) == 'fp16'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    with pytest.raises(ValueError, match='use --amp fp16'):
        resolve_amp_dtype('bf16', bf16_supported=False)


@pytest.mark.parametrize('dtype, loss_scale', [
    ('bf16', dict(enabled=False)), ('fp16', 'dynamic')])
def test_apply_amp_sets_dtype_and_loss_scaling(dtype, loss_scale):
    cfg = _cfg()
    apply_amp(cfg, dtype)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == {'bf16': 'bfloat16', 'fp16': 'float16'}[dtype]
    assert cfg.optim_wrapper.loss_scale == loss_scale


def test_config_amp_kept_unless_a_dtype_is_given():
    cfg = _cfg(type='AmpOptimWrapper', loss_scale=512.0)
    apply_amp(cfg, 'auto')
    assert cfg.optim_wrapper.loss_scale == 512.0 and 'dtype' not in cfg.optim_wrapper
    apply_amp(cfg, 'bf16')
    assert cfg.optim_wrapper.dtype == 'bfloat16'


def test_bf16_wrapper_has_no_loss_scaler_and_trains(monkeypatch):
    """The wrapper --amp bf16 configures: bfloat16 autocast (CPU autocast here),
    a disabled GradScaler (no inf checks: no host sync per step)."""
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp
    monkeypatch.setattr(amp, 'is_cuda_available', lambda: True)  # a GPU-only class
    model = build_model(segmentor_cfg('8s'))
    cfg = _cfg()
    apply_amp(cfg, 'bf16')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper.cast_dtype == torch.bfloat16
    assert not wrapper.loss_scaler.is_enabled()
    seen = []
    model.decode_head.score_fr.register_forward_hook(
        lambda m, args, out: seen.append(out.dtype))
    before = model.decode_head.score_fr.weight.detach().clone()
    log_vars = model.train_step(_batch([(40, 36)]), wrapper)
    assert seen == [torch.bfloat16]
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(model.decode_head.score_fr.weight, before)  # it stepped
