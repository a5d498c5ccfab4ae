"""The model cases: what each mode does to the models the benchmark runs."""
import torch

from benchmarks.cases import case_specs, prepare_case
from benchmarks.cli import parse_args

from .conftest import TINY

CL = torch.channels_last


def _spec(kind: str, mode: str) -> dict:
    args = parse_args(TINY + ['--variants', '8s', '--modes', mode, '--no-optimized'])
    (spec, ) = [s for s in case_specs(args)
                if s['kind'] == kind and not s.get('tune_malloc')]
    assert spec['mode'] == mode
    return spec


def test_ours_in_channels_last_as_the_hook_does():
    model, infer, train, _ = prepare_case(_spec('ours', 'fp32-cl'))
    # VGG convs in channels_last; fc6 / fc7 (GemmConv2d) read as matrices: untouched
    assert model.backbone.conv1_1.weight.is_contiguous(memory_format=CL)
    assert not model.backbone.fc6.weight.is_contiguous(memory_format=CL)
    seen = []
    handle = model.backbone.conv1_1.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].is_contiguous(memory_format=CL)))
    infer()
    train()
    handle.remove()
    assert seen == [True, True]


def test_baseline_in_channels_last_as_plain_pytorch_does():
    model, infer, _, _ = prepare_case(_spec('baseline', 'fp32-cl'))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(m.weight.is_contiguous(memory_format=CL) for m in convs)
    assert infer().shape[-2:] == (40, 52)


def test_fp32_mode_keeps_the_default_layout():
    model, _, _, _ = prepare_case(_spec('ours', 'fp32'))
    assert not model.backbone.conv1_1.weight.is_contiguous(memory_format=CL)
