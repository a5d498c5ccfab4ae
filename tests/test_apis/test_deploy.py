"""``freeze_for_inference`` gives the eager outputs, and falls back to the eager
backbone whenever the frozen graph would not."""
import torch

from mmseg_fcn_classic.apis.deploy import FrozenBackbone, freeze_for_inference
from mmseg_fcn_classic.testing.narrow import build_shipped, close, logits, randomize_

def test_freeze_for_inference_matches_eager_and_falls_back():
    model = build_shipped('fcn8s_vgg16_voc.py')
    randomize_(model, seed=1, upscore='bilinear')
    model.eval()
    x = torch.randn(1, 3, 45, 61) * 50
    with torch.no_grad():
        ref = logits(model, x)
        other = torch.randn(1, 3, 40, 52) * 50
        ref_other = logits(model, other)
        freeze_for_inference(model, x.shape)
        backbone = model.backbone
        assert isinstance(backbone, FrozenBackbone)
        assert backbone.uses_frozen(x)
        assert close(logits(model, x), ref)
        # another shape: eager, still right
        assert not backbone.uses_frozen(other)
        assert close(logits(model, other), ref_other)
    # training mode / autograd: eager
    assert not backbone.uses_frozen(x)
    model.train()
    with torch.no_grad():
        assert not backbone.uses_frozen(x)
    model.eval()
    # changed weights: the frozen copy is stale, so eager again
    with torch.no_grad():
        backbone.eager.conv1_1.weight.mul_(2)
        assert not backbone.uses_frozen(x)
        assert not close(logits(model, x), ref)
