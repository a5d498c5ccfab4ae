"""Run a model in the channels_last memory format."""
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from torch.utils.hooks import RemovableHandle

from ...models.layers import GemmConv2d


def convs_to_channels_last(model: nn.Module) -> int:
    """Put the weights of the 2-D (transposed) convolutions in channels_last.

    :class:`GemmConv2d` is left alone: its GEMM reads the weight as a matrix,
    which a channels_last weight would turn into a copy per call. The parameter
    objects stay the same (an optimizer built on them remains valid).

    Args:
        model (nn.Module): Changed in place.

    Returns:
        int: The number of weights converted.
    """
    count = 0
    for module in model.modules():
        if (isinstance(module, (nn.Conv2d, nn.ConvTranspose2d))
                and not isinstance(module, GemmConv2d)):
            weight = module.weight
            weight.data = weight.data.contiguous(memory_format=torch.channels_last)
            count += 1
    return count


def _inputs_to_channels_last(module: nn.Module, args, output: dict) -> dict:
    inputs = output.get('inputs') if isinstance(output, dict) else None
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        output['inputs'] = inputs.contiguous(memory_format=torch.channels_last)
    return output


def inputs_to_channels_last(model: nn.Module) -> RemovableHandle:
    """Make ``model.data_preprocessor`` return its batch inputs in channels_last.

    Args:
        model (nn.Module): A segmentor with a ``data_preprocessor``.

    Returns:
        RemovableHandle: The forward hook's handle; ``remove()`` undoes it.
    """
    return model.data_preprocessor.register_forward_hook(_inputs_to_channels_last)


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Model and inputs in channels_last (NHWC), as tensor cores want them.

    Add ``dict(type='ChannelsLastHook')`` to ``custom_hooks``. Before the run
    (training, validation or test) the convolution weights of the model become
    channels_last (:func:`convs_to_channels_last`) and the model's data
    preprocessor returns its batch ``inputs`` in channels_last, so every
    activation follows. Values are unchanged (up to summation order); on GPUs
    with bf16/fp16 autocast the convolutions run without layout transposes.
    Bias and other parameters keep their layout; state dicts are unaffected.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._handle = None

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        convs_to_channels_last(model)
        if self._handle is None:
            self._handle = inputs_to_channels_last(model)
