"""Test-time augmentation for a multi-head segmentor: every head merged."""
from typing import List

from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import SampleList

from ..utils.heads import head_fields
from .multi_head_encoder_decoder import decode_heads


@MODELS.register_module()
class MultiHeadSegTTAModel(SegTTAModel):
    """mmseg's ``SegTTAModel`` for every head of a ``MultiHeadEncoderDecoder``.

    For each head, as ``SegTTAModel`` does for the one head: the softmax scores
    (sigmoid for one channel) of all augmented views, each already brought back to
    the original image, are averaged, and the labels are their argmax (or the
    head's threshold). The ground truth of every head is kept.

    Example:
        >>> tta_model = dict(type='MultiHeadSegTTAModel')
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Merge the views of each image, head by head.

        Args:
            data_samples_list (list[list[SegDataSample]]): Per image, the
                predictions of its augmented views.

        Returns:
            list[SegDataSample]: One merged prediction per image.
        """
        heads = decode_heads(self.module)
        predictions = []
        for views in data_samples_list:
            merged = SegDataSample()
            for name, head in heads.items():
                fields = head_fields(name)
                total = None
                for view in views:
                    logits = view.get(fields.logits).data
                    score = logits.softmax(dim=0) if head.out_channels > 1 else \
                        logits.sigmoid()
                    total = score if total is None else total + score
                mean = total / len(views)
                if head.out_channels > 1:
                    pred = mean.argmax(dim=0, keepdim=True)
                else:
                    pred = (mean > head.threshold).to(mean)
                merged.set_data({fields.pred: PixelData(data=pred),
                                 fields.logits: PixelData(data=mean)})
                if fields.gt in views[0]:
                    merged.set_data({fields.gt: views[0].get(fields.gt)})
            if 'img_path' in views[0].metainfo:
                merged.set_metainfo({'img_path': views[0].img_path})
            predictions.append(merged)
        return predictions
