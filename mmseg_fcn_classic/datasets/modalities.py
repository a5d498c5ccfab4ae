"""Load the modalities of an RGB-D sample (colour, HHA, depth) as one float image.

The modalities are stacked as channels of ``results['img']`` in the order of
:data:`~mmseg_fcn_classic.models.utils.modalities.MODALITIES` names given, each
decoded into what the network reads (``nyud_layers.py`` of fcn.berkeleyvision.org):
colour as BGR 0-255, HHA in the PNG's own channel order, depth as the natural log
of the 16-bit value. mmseg's spatial transforms (``RandomFlip``, ``RandomCrop``,
``Resize``, ``Pad`` with ``pad_val=0``) act on ``results['img']`` whatever its
channel count and on every ``seg_fields`` entry, so each of them moves every
modality and the label together. ``MultiModalDataPreProcessor`` then subtracts
each modality's mean::

    train_pipeline = [
        dict(type='LoadMultiModalImageFromFiles'),  # modalities from the dataset
        dict(type='LoadFCNAnnotations'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs'),
    ]

Photometric transforms (``PhotoMetricDistortion``) need 8-bit 3-channel images
and do not apply; ``Pad`` needs ``pad_val=0`` (OpenCV pads more than four channels
only with one value for all).
"""
from typing import Dict, Optional, Sequence, Union

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ..models.utils.modalities import check_modalities
from .validation import Problem, SampleError

#: Fills of missing (zero) depth that a config may opt into, see
#: :func:`fill_zero_depth`.
DEPTH_FILLS = ('nearest', )


def _decode(data: bytes, flag: int) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if img is None:
        raise ValueError('not a decodable image')
    return img


def decode_color(data: bytes) -> np.ndarray:
    """An 8-bit colour image as BGR ``(H, W, 3)`` uint8, as ``LoadImageFromFile``
    reads it (a grey or 16-bit file is converted by OpenCV the same way)."""
    return _decode(data, cv2.IMREAD_COLOR)


def decode_hha(data: bytes) -> np.ndarray:
    """An HHA image in the file's channel order ``(H, W, 3)`` uint8.

    ``nyud_layers.load_hha`` reads the PNG with PIL and does not flip channels, so
    the channels stay in the file's order (OpenCV decodes BGR; it is flipped back).

    Raises:
        ValueError: The file is not an 8-bit 3-channel image.
    """
    img = _decode(data, cv2.IMREAD_UNCHANGED)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        channels = 1 if img.ndim == 2 else img.shape[2]
        raise ValueError(f'an HHA image must be 8-bit with 3 channels; this one is '
                         f'{img.dtype} with {channels} channel(s)')
    return np.ascontiguousarray(img[..., ::-1])


def decode_depth(data: bytes) -> np.ndarray:
    """A 16-bit single-channel depth PNG as ``(H, W)`` uint16.

    Raises:
        ValueError: The file is not a 16-bit single-channel image.
    """
    img = _decode(data, cv2.IMREAD_UNCHANGED)
    if img.dtype != np.uint16 or img.ndim != 2:
        channels = 1 if img.ndim == 2 else img.shape[2]
        raise ValueError(f'a depth image must be 16-bit with one channel; this one is '
                         f'{img.dtype} with {channels} channel(s)')
    return img


def fill_zero_depth(depth: np.ndarray, fill: Union[str, float]) -> np.ndarray:
    """Replace the zeros (missing depth) of a depth map.

    Args:
        depth (np.ndarray): ``(H, W)`` depth values.
        fill (str | float): ``'nearest'``: the value of the nearest pixel with a
            depth (Euclidean distance; ties as ``scipy.ndimage`` breaks them); a
            positive number: that value, in the file's unit (millimetres).

    Returns:
        np.ndarray: A copy without zeros, same dtype.

    Example:
        >>> fill_zero_depth(np.array([[0, 5, 0, 0, 9]], np.uint16), 'nearest')
        array([[5, 5, 5, 9, 9]], dtype=uint16)
    """
    missing = depth == 0
    if isinstance(fill, str):
        if fill != 'nearest':
            raise ValueError(f'depth_fill must be one of {DEPTH_FILLS} or a positive '
                             f'number, got {fill!r}')
        if missing.all():
            raise ValueError('every pixel has depth 0: nothing to fill from')
        from scipy.ndimage import distance_transform_edt
        index = distance_transform_edt(missing, return_distances=False,
                                       return_indices=True)
        return depth[tuple(index)]
    if not fill > 0:
        raise ValueError(f'depth_fill must be positive, got {fill!r}')
    out = depth.copy()
    out[missing] = fill
    return out


@TRANSFORMS.register_module()
class LoadMultiModalImageFromFiles(BaseTransform):
    """Read each modality of a sample and stack them as one float32 image.

    Modalities (names of ``MODALITIES``) and how they are decoded:

    * ``color``: BGR 0-255 (:func:`decode_color`), 3 channels;
    * ``hha``: 0-255 in the PNG's channel order (:func:`decode_hha`), 3 channels;
    * ``depth``: ``log(value)`` of the 16-bit PNG (:func:`decode_depth`), 1 channel.

    A depth of 0 means "no measurement": its log would be ``-inf`` and the losses
    NaN. It is an error naming the file and the number of such pixels, unless
    ``depth_fill`` opts into a fill (:func:`fill_zero_depth`), done before the log.
    Every modality must have the size of the first one; a mismatch is an error
    naming both files.

    Required Keys: ``modality_paths`` (``{name: path}``, from the dataset), and
    ``modalities`` unless given here; for inference on bare files,
    ``img_path`` stands for the first modality when ``modality_paths`` lacks it.

    Added Keys: ``img`` (float32 ``(H, W, C)``), ``img_shape``, ``ori_shape``,
    ``modalities``.

    Args:
        modalities (Sequence[str], optional): Names in stacking order. Defaults to
            None: the sample's ``modalities`` (set by the dataset).
        depth_fill (str | float, optional): ``'nearest'`` or a positive depth value
            to replace zeros with. Defaults to None (zeros are an error).
        backend_args (dict, optional): mmengine file backend arguments.

    Raises:
        SampleError: A file cannot be read or decoded, has depth 0, or differs in
            size from the first modality's; the message names the file(s).
    """

    DECODERS = {'color': decode_color, 'hha': decode_hha, 'depth': decode_depth}

    def __init__(self,
                 modalities: Optional[Sequence[str]] = None,
                 depth_fill: Optional[Union[str, float]] = None,
                 backend_args: Optional[dict] = None) -> None:
        self.modalities = None if modalities is None else check_modalities(modalities)
        if depth_fill is not None and depth_fill not in DEPTH_FILLS and not (
                isinstance(depth_fill, (int, float)) and depth_fill > 0):
            raise ValueError(f'depth_fill must be None, one of {DEPTH_FILLS} or a '
                             f'positive number, got {depth_fill!r}')
        self.depth_fill = depth_fill
        self.backend_args = backend_args

    def _paths(self, results: dict, modalities: Sequence[str]) -> Dict[str, str]:
        paths = dict(results.get('modality_paths') or {})
        if modalities[0] not in paths and results.get('img_path') is not None:
            paths[modalities[0]] = results['img_path']
        missing = [m for m in modalities if m not in paths]
        if missing:
            raise SampleError(
                f"sample {results.get('img_path')}: no file for modalities {missing} "
                f'(modality_paths has {sorted(paths)})',
                [Problem('missing modality', f'{results.get("img_path")}: {missing}')])
        return paths

    def read(self, name: str, path: str) -> np.ndarray:
        """One modality of one file, decoded, as float32 ``(H, W, channels)``."""
        try:
            data = fileio.get(path, backend_args=self.backend_args)
            img = self.DECODERS[name](data)
        except Exception as e:  # noqa: BLE001  (re-raised naming the file)
            raise SampleError(f'cannot read {name} image {path}: '
                              f'{type(e).__name__}: {e}',
                              [Problem(f'unreadable {name} image', f'{path}: {e}')]
                              ) from e
        if name != 'depth':
            return img.astype(np.float32)
        zeros = int(np.count_nonzero(img == 0))
        if zeros:
            if self.depth_fill is None:
                raise SampleError(
                    f'depth image {path}: {zeros} of {img.size} pixels have depth 0 '
                    '(no measurement); log(0) = -inf would make the losses NaN. Fill '
                    'them in the data, or opt into a fill: '
                    "dict(type='LoadMultiModalImageFromFiles', depth_fill='nearest')",
                    [Problem('zero depth', f'{path}: {zeros} pixels')])
            try:
                img = fill_zero_depth(img, self.depth_fill)
            except ValueError as e:
                raise SampleError(f'depth image {path}: {e}',
                                  [Problem('zero depth', f'{path}: {e}')]) from None
        return np.log(img.astype(np.float32))[..., None]

    def transform(self, results: dict) -> dict:
        """Read, check and stack the sample's modalities."""
        modalities = self.modalities or check_modalities(
            results.get('modalities') or ('color', ))
        paths = self._paths(results, modalities)
        arrays, first = [], None
        for name in modalities:
            img = self.read(name, paths[name])
            if first is None:
                first = (name, paths[name], img.shape[:2])
            elif img.shape[:2] != first[2]:
                raise SampleError(
                    f'{name} image {paths[name]} is {img.shape[0]}x{img.shape[1]} '
                    f'(HxW) but the {first[0]} image {first[1]} is '
                    f'{first[2][0]}x{first[2][1]}',
                    [Problem('modality size mismatch',
                             f'{paths[name]} vs {first[1]}')])
            arrays.append(img)
        img = arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=2)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['modalities'] = tuple(modalities)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(modalities={self.modalities}, '
                f'depth_fill={self.depth_fill!r}, backend_args={self.backend_args})')


def read_modalities(paths: Dict[str, str], modalities: Sequence[str],
                    depth_fill: Optional[Union[str, float]] = None) -> np.ndarray:
    """The stacked float32 image of ``{name: path}``, as the transform loads it."""
    loader = LoadMultiModalImageFromFiles(modalities, depth_fill)
    return loader(dict(modality_paths=dict(paths)))['img']

