"""``PlainFCN8s``, the benchmark's baseline, computes the same function as our
registry-built FCN-8s once its weights are converted."""
import torch

from mmseg_fcn_classic.converters.pytorch_fcn import convert_pytorch_fcn
from mmseg_fcn_classic.testing.narrow import (FC_CHANNELS, WIDTHS, build_shipped, close,
                                              logits, randomize_)
from mmseg_fcn_classic.testing.plain_fcn import PlainFCN8s

def test_plain_baseline_computes_our_fcn8s():
    """Same weights, same logits: the baseline is the same network as ours."""
    torch.manual_seed(0)
    plain = PlainFCN8s(21, WIDTHS, FC_CHANNELS)
    randomize_(plain, seed=2, upscore='bilinear')
    plain.eval()
    ours = build_shipped('fcn8s_vgg16_voc.py')
    randomize_(ours, seed=1, upscore='bilinear')
    ours.eval()
    state_dict, report = convert_pytorch_fcn(plain.state_dict())
    assert report['variant'] == '8s'
    missing, unexpected = ours.load_state_dict(state_dict, strict=False)
    assert not unexpected and not [k for k in missing
                                   if not k.startswith('data_preprocessor')]
    for size in ((45, 61), (32, 32)):
        x = torch.randn(1, 3, *size) * 50
        with torch.no_grad():
            ref = plain(x)
            out = logits(ours, x)
        assert out.shape == ref.shape == (1, 21, *size)
        assert ref.abs().max() > 1
        assert close(out, ref)
