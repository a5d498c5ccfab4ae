"""Input normalisation of stacked modalities (colour, HHA, depth), per modality."""
from typing import Any, Dict, List, Optional, Sequence

from mmseg.registry import MODELS

from .data_preprocessor import FCNDataPreProcessor
from .utils.modalities import MODALITIES, channel_table, modality_means, num_channels


@MODELS.register_module()
class MultiModalDataPreProcessor(FCNDataPreProcessor):
    """An :class:`FCNDataPreProcessor` for images whose channels are modalities.

    ``LoadMultiModalImageFromFiles`` stacks the modalities of a sample as the
    channels of one float image, each already decoded into what the network reads
    (colour BGR, HHA in file order, log depth), so every spatial transform of the
    pipeline moves them together. This preprocessor subtracts each modality's mean
    from its channels (std 1, no channel swap) and checks the channel count; the
    channel table (:attr:`channel_table`) says which channels are which, for the
    late-fusion backbone and for export.

    Args:
        modalities (Sequence[str]): Names in ``MODALITIES``, in stacking order.
            Defaults to ``('color', )``.
        mean (Sequence[float], optional): Overrides the per-channel means (one
            value per stacked channel). Defaults to the modalities' means.
        std (Sequence[float], optional): Defaults to 1 for every channel.
        **kwargs: Other :class:`FCNDataPreProcessor` / ``SegDataPreProcessor``
            arguments (``size_divisor``, ``pad_val``, ...). ``bgr_to_rgb`` is not
            one: the loader already put each modality in its order.

    Example:
        >>> pre = MultiModalDataPreProcessor(modalities=('color', 'depth'))
        >>> pre.channel_table, [round(v, 3) for v in pre.mean.flatten().tolist()]
        ((('color', 0, 3), ('depth', 3, 4)), [116.19, 97.203, 92.318, 7.844])
    """

    def __init__(self,
                 modalities: Sequence[str] = ('color', ),
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 **kwargs) -> None:
        self.channel_table = channel_table(modalities)
        self.modalities = tuple(name for name, _, _ in self.channel_table)
        channels = num_channels(self.modalities)
        mean = modality_means(self.modalities) if mean is None else tuple(mean)
        std = (1.0, ) * channels if std is None else tuple(std)
        if len(mean) != channels or len(std) != channels:
            raise ValueError(f'modalities {self.modalities} stack {channels} channels; '
                             f'got {len(mean)} means and {len(std)} stds')
        if kwargs.pop('bgr_to_rgb', False) or kwargs.pop('rgb_to_bgr', False):
            raise ValueError('MultiModalDataPreProcessor swaps no channels: the '
                             'loader decodes each modality in its own order')
        super().__init__(mean=mean, std=std, bgr_to_rgb=False, **kwargs)
        self.num_channels = channels

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Check the channel count, then normalise, pad and stack as mmseg does."""
        inputs = data['inputs']
        for item in inputs if isinstance(inputs, (list, tuple)) else [inputs]:
            channels = item.shape[-3]
            if channels != self.num_channels:
                raise ValueError(
                    f'the data preprocessor expects {self.num_channels} channels '
                    f'(modalities {self.modalities}), got an input of shape '
                    f'{tuple(item.shape)}: load the images with '
                    f"dict(type='LoadMultiModalImageFromFiles', "
                    f'modalities={self.modalities})')
        return super().forward(data, training)

    def modality_conventions(self) -> List[Dict[str, Any]]:
        """How to prepare each modality for the network, for export metadata.

        Returns:
            list[dict]: Per modality, in stacking order: ``name``, ``channels``,
            ``stored_as``, ``channel_order`` (relative to a BGR reading, None for
            one channel), ``transform`` (``'log'`` or None), then ``mean`` and
            ``std`` of ``(transform(value) - mean) / std``.
        """
        mean = [round(float(v), 5) for v in self.mean.flatten()]
        std = [round(float(v), 5) for v in self.std.flatten()]
        out = []
        for name, start, stop in self.channel_table:
            spec = MODALITIES[name]
            out.append(dict(name=name, channels=stop - start, stored_as=spec.stored_as,
                            channel_order=spec.channel_order, transform=spec.transform,
                            mean=mean[start:stop], std=std[start:stop]))
        return out
