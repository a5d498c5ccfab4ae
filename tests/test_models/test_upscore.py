"""Upscore: bilinear init, the depthwise fast path and when it is decided."""
import pytest
import torch
import torch.nn.functional as F

from mmseg_fcn_classic.models.layers import Upscore
from mmseg_fcn_classic.models.utils.geometry import bilinear_kernel, bilinear_upsample_weight
from .conftest import NUM_CLASSES


@pytest.fixture
def groups(monkeypatch):
    """The ``groups`` of every ``F.conv_transpose2d`` call, in order."""
    calls = []
    real = F.conv_transpose2d

    def spy(*args, **kwargs):
        calls.append(kwargs.get('groups', 1))
        return real(*args, **kwargs)

    monkeypatch.setattr(F, 'conv_transpose2d', spy)
    return calls


def _dense(up, x):
    return torch.ops.aten.conv_transpose2d(x, up.weight.detach(), None, up.stride)


def test_bilinear_kernel_on_the_diagonal():
    up = Upscore(2, 4)
    assert up.weight.shape == (2, 2, 8, 8) and up.bias is None
    assert torch.equal(up.weight[1, 1], bilinear_kernel(8))
    assert torch.equal(up.weight, bilinear_upsample_weight(2, 8))
    assert list(up.state_dict()) == ['weight']  # published weights load 1:1


def test_frozen_2x_upscore_doubles_constant_map():
    up = Upscore(NUM_CLASSES, 2)
    x = torch.full((1, NUM_CLASSES, 5, 6), 3.0)
    out = up(x)
    assert out.shape == (1, NUM_CLASSES, 12, 14)
    torch.testing.assert_close(out[..., 2:-2, 2:-2],
                               torch.full((1, NUM_CLASSES, 8, 10), 3.0))
    assert out[..., 0, 0].lt(3.0).all()  # the border fades out


@pytest.mark.parametrize('factor', [2, 8, 16, 32])
def test_fast_path_equals_dense(groups, factor):
    up = Upscore(NUM_CLASSES, factor)
    with torch.no_grad():  # per-channel diagonal kernels, still diagonal
        for c in range(NUM_CLASSES):
            up.weight[c, c] *= c + 1
    up.eval()
    x = torch.randn(2, NUM_CLASSES, 7, 5)
    out = up(x)
    assert groups == [NUM_CLASSES] and up.uses_fast_path
    torch.testing.assert_close(out, _dense(up, x), rtol=1e-4, atol=1e-4)


def test_forward_never_inspects_the_weight(monkeypatch, groups):
    up = Upscore(NUM_CLASSES, 2)
    calls = []
    monkeypatch.setattr(torch, 'count_nonzero', lambda *a, **k: calls.append(a))
    x = torch.randn(1, NUM_CLASSES, 4, 4)
    for _ in range(3):
        up(x)
    up.train()  # nothing changed: no new decision either
    assert calls == [] and groups == [NUM_CLASSES] * 3


def test_in_place_edit_is_picked_up_by_the_next_eager_forward(groups):
    up = Upscore(NUM_CLASSES, 2).eval()
    x = torch.randn(1, NUM_CLASSES, 4, 5)
    with torch.no_grad():
        up.weight[0, 1, 0, 0] = 0.5  # an off-diagonal entry: the dense path
    torch.testing.assert_close(up(x), _dense(up, x))
    assert not up.uses_fast_path
    with torch.no_grad():
        up.weight[0, 1, 0, 0] = 0.0
    up(x)
    assert up.uses_fast_path and groups == [1, NUM_CLASSES]


def test_compiled_forward_picks_edits_up_at_train_or_eval():
    up = Upscore(NUM_CLASSES, 2)
    compiled = torch.compile(up, backend='eager')
    x = torch.randn(1, NUM_CLASSES, 4, 5)
    torch.testing.assert_close(compiled(x), _dense(up, x))
    with torch.no_grad():
        up.weight[0, 1] = 1.0
    up.eval()
    torch.testing.assert_close(compiled(x), _dense(up, x))
    up.load_state_dict({'weight': bilinear_upsample_weight(NUM_CLASSES, 4)})
    torch.testing.assert_close(compiled(x), _dense(up, x))
    torch._dynamo.reset()


def test_writes_through_data_need_a_refresh():
    up = Upscore(NUM_CLASSES, 2)
    up.weight.data[0, 1, 0, 0] = 0.5  # bypasses the version counter
    up.refresh_fast_path()
    assert not up.uses_fast_path
    x = torch.randn(1, NUM_CLASSES, 4, 5)
    torch.testing.assert_close(up(x), _dense(up, x))


def test_load_state_dict_decides(groups):
    up = Upscore(NUM_CLASSES, 2)
    dense = torch.randn(NUM_CLASSES, NUM_CLASSES, 4, 4)
    up.load_state_dict({'weight': dense})
    assert not up.uses_fast_path
    x = torch.randn(1, NUM_CLASSES, 3, 4)
    torch.testing.assert_close(up(x), _dense(up, x))
    up.load_state_dict({'weight': bilinear_upsample_weight(NUM_CLASSES, 4)})
    assert up.uses_fast_path
    up(x)
    assert groups == [1, NUM_CLASSES]


def test_reset_parameters_decides():
    up = Upscore(NUM_CLASSES, 2)
    up.load_state_dict({'weight': torch.randn(NUM_CLASSES, NUM_CLASSES, 4, 4)})
    up.reset_parameters()
    assert up.uses_fast_path


def test_trainable_weight_trains_densely_and_is_redecided_when_frozen(groups):
    up = Upscore(NUM_CLASSES, 2, trainable=True)
    assert not up.uses_fast_path
    x = torch.randn(2, NUM_CLASSES, 7, 5)
    up(x).sum().backward()
    assert groups == [1] and up.weight.grad[0, 1].abs().sum() > 0
    torch.optim.SGD(up.parameters(), lr=0.1).step()  # off-diagonal entries move
    up.weight.requires_grad_(False)
    assert not up.uses_fast_path  # decided while trainable: stays dense
    torch.testing.assert_close(up(x), _dense(up, x))
    up.eval()
    assert not up.uses_fast_path  # re-decided: the weight is no longer diagonal

    up = Upscore(NUM_CLASSES, 2, trainable=True)
    up.weight.requires_grad_(False)
    up.eval()  # frozen with the bilinear weight: fast again
    assert up.uses_fast_path
    up.weight.requires_grad_(True)  # trainable now: dense at once
    assert not up.uses_fast_path


def test_meta_device_does_not_decide():
    with torch.device('meta'):
        up = Upscore(NUM_CLASSES, 2)
    assert not up.uses_fast_path
