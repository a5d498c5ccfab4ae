"""Label loading for the FCN datasets: palette PNG, TIFF and SBD ``.mat`` as stored.

``LoadFCNAnnotations`` is a drop-in replacement for mmseg's ``LoadAnnotations``
that also reads the SBD benchmark's MATLAB files, so a pipeline over VOC + SBD
stays an ordinary mmseg pipeline::

    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadFCNAnnotations'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs'),
    ]
"""
import io
import os.path as osp
from typing import Callable, Optional

import mmengine.fileio as fileio
import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from .validation import SampleError, check_seg_map

#: Image modes PIL decodes to single-channel integer indices.
_INDEX_MODES = ('P', 'L', '1', 'I', 'I;16', 'I;16L', 'I;16B', 'I;16N')


def load_sbd_mat(source) -> np.ndarray:
    """The class label map of an SBD ``cls/*.mat`` file.

    SBD stores a MATLAB struct ``GTcls`` with fields ``Segmentation`` (H x W,
    0 = background, 1..20 = VOC classes, no boundary band), ``Boundaries`` and
    ``CategoriesPresent``. Both ways scipy can return a struct are handled.

    Args:
        source (str | bytes | file-like): Path, raw bytes or an open file.

    Returns:
        np.ndarray: (H, W) uint8 label map.

    Raises:
        ValueError: When the file has no ``GTcls.Segmentation`` or it is not a
            2-D integer map within 0..255.
    """
    from scipy.io import loadmat
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    mat = loadmat(source, variable_names=['GTcls'], squeeze_me=True,
                  struct_as_record=False)
    if 'GTcls' not in mat:
        raise ValueError('no MATLAB struct GTcls in the file (not an SBD '
                         'cls/*.mat label)')
    return sbd_segmentation(mat['GTcls'])


def sbd_segmentation(gtcls) -> np.ndarray:
    """``GTcls.Segmentation`` of a loaded SBD struct, as (H, W) uint8.

    Accepts the struct however ``scipy.io.loadmat`` returned it: a record array
    (``struct_as_record=True``, the default; ``gtcls[0]['Segmentation'][0]``), a
    ``mat_struct`` (``struct_as_record=False``), squeezed or not.

    Args:
        gtcls: ``loadmat(...)['GTcls']``.

    Returns:
        np.ndarray: (H, W) uint8 label map.
    """
    gt = gtcls
    while isinstance(gt, np.ndarray) and gt.dtype == object and gt.size == 1:
        gt = gt.flat[0]  # object wrapper around the struct
    if isinstance(gt, np.ndarray) and gt.dtype.names:  # record array
        if 'Segmentation' not in gt.dtype.names:
            raise ValueError('GTcls has no field Segmentation')
        seg = gt['Segmentation']
    elif hasattr(gt, 'Segmentation'):  # mat_struct
        seg = gt.Segmentation
    else:
        raise ValueError('GTcls has no field Segmentation')
    while isinstance(seg, np.ndarray) and seg.dtype == object:
        if seg.size != 1:
            raise ValueError('GTcls is a struct array of '
                             f'{seg.size} elements; expected one')
        seg = seg.flat[0]
    seg = np.asarray(seg)
    if seg.ndim != 2 or not (np.issubdtype(seg.dtype, np.integer)
                             or np.issubdtype(seg.dtype, np.floating)):
        raise ValueError(f'GTcls.Segmentation has shape {seg.shape} and dtype '
                         f'{seg.dtype}; expected a 2-D integer map')
    return _to_uint8(seg, 'GTcls.Segmentation')


def load_mat_integer_map(data: bytes, key: str, name: str, hint: str) -> np.ndarray:
    """The 2-D integer map stored as variable ``key`` of a MATLAB ``.mat`` file.

    Args:
        data (bytes): The file's bytes.
        key (str): The variable.
        name (str): How errors name the variable, e.g. ``"'S'"``.
        hint (str): What a file without it is not, e.g. ``'not a SIFT Flow label
            .mat'``.

    Returns:
        np.ndarray: The map as int64, values unchecked.

    Raises:
        ValueError: No such variable, not a 2-D numeric array, or non-integer
            values.

    Example:
        >>> from scipy.io import savemat
        >>> f = io.BytesIO(); savemat(f, {'S': np.array([[-1., 2.]])})
        >>> load_mat_integer_map(f.getvalue(), 'S', "'S'", 'not a label .mat')
        array([[-1,  2]])
    """
    from scipy.io import loadmat
    mat = loadmat(io.BytesIO(data), variable_names=[key])
    if key not in mat:
        raise ValueError(f'no variable {name} in the file ({hint})')
    seg = np.asarray(mat[key])
    if seg.ndim != 2 or not (np.issubdtype(seg.dtype, np.integer)
                             or np.issubdtype(seg.dtype, np.floating)):
        raise ValueError(f'{name} has shape {seg.shape} and dtype {seg.dtype}; '
                         'expected a 2-D integer map')
    if np.issubdtype(seg.dtype, np.floating) and not np.all(seg == np.round(seg)):
        raise ValueError(f'{name} holds non-integer values')
    return seg.astype(np.int64)


def _to_uint8(seg: np.ndarray, what: str) -> np.ndarray:
    if seg.dtype == np.uint8:
        return seg
    if np.issubdtype(seg.dtype, np.floating) and not np.all(seg == np.round(seg)):
        raise ValueError(f'{what} holds non-integer values')
    lo, hi = (seg.min(), seg.max()) if seg.size else (0, 0)
    if lo < 0 or hi > 255:
        bad = np.unique(seg[(seg < 0) | (seg > 255)])[:20]
        raise ValueError(f'{what} holds label values {bad.tolist()} outside '
                         '0..255')
    return seg.astype(np.uint8)


def decode_label_image(data: bytes) -> np.ndarray:
    """Decode a PNG/TIFF/BMP label image to its stored class indices.

    Palette images give their indices (not their colours); grayscale and 16-bit
    images give their values. A colour image is only accepted when its channels
    are identical (a grayscale map saved as RGB); otherwise it is rejected, as its
    colours are not class indices.

    Args:
        data (bytes): The file's bytes.

    Returns:
        np.ndarray: (H, W) uint8 label map.
    """
    from PIL import Image
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        mode = img.mode
        arr = np.array(img)
    if mode in _INDEX_MODES or arr.ndim == 2:
        return _to_uint8(arr, f'{mode} image')
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        rgb = arr[..., :3]
        if np.all(rgb == rgb[..., :1]):
            return _to_uint8(np.ascontiguousarray(rgb[..., 0]), f'{mode} image')
    raise ValueError(
        f'a colour ({mode}) image with differing channels: expected class '
        'indices (a palette PNG or a single-channel image), not colours')


@TRANSFORMS.register_module()
class LoadFCNAnnotations(LoadAnnotations):
    """Load a semantic label map from a palette PNG, TIFF/BMP or SBD ``.mat``.

    The reader is ``results['seg_map_decoder']`` when the dataset sets one (a
    picklable callable ``bytes -> (H, W) uint8 array``, e.g. a module-level
    function or a ``functools.partial`` of one, for label files of a dataset's
    own format); otherwise it is chosen by the file suffix of
    ``results['seg_map_path']``: ``.mat`` through :func:`load_sbd_mat`, anything
    else through PIL (palette indices, never RGB colours). Then, as mmseg's ``LoadAnnotations`` does,
    ``reduce_zero_label`` and the dataset's ``label_map`` (e.g. the polyp void
    value to 255) are applied. When the image is already loaded
    (``results['ori_shape']``) the label map must have the same size. Label values
    are checked against the classes by this package's datasets, which know them.

    Required Keys: ``seg_map_path``, ``reduce_zero_label``, ``seg_fields``,
    optionally ``seg_map_decoder``, ``label_map`` and ``ori_shape``.

    Added Keys: ``gt_seg_map`` (np.uint8, H x W).

    Args:
        reduce_zero_label (bool, optional): As in mmseg; prefer setting it on the
            dataset. Defaults to None (take the dataset's value).
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Raises:
        SampleError: The file cannot be read or decoded, or its size differs
            from the image's; the message names the file.
    """

    def __init__(self,
                 reduce_zero_label: Optional[bool] = None,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(
            reduce_zero_label=reduce_zero_label,
            backend_args=backend_args,
            imdecode_backend='pillow')

    def _read(self, path: str, decoder: Optional[Callable] = None) -> np.ndarray:
        try:
            data = fileio.get(path, backend_args=self.backend_args)
            if decoder is not None:
                return decoder(data)
            if osp.splitext(path)[1].lower() == '.mat':
                return load_sbd_mat(data)
            return decode_label_image(data)
        except Exception as e:  # noqa: BLE001  (re-raised naming the file)
            raise SampleError(
                f'cannot read label map {path}: {type(e).__name__}: {e}') from e

    def _load_seg_map(self, results: dict) -> None:
        path = results.get('seg_map_path')
        if path is None:  # inference on bare images (mmseg's inference_model)
            return
        seg = self._read(path, results.get('seg_map_decoder'))

        if self.reduce_zero_label is None:
            self.reduce_zero_label = results.get('reduce_zero_label', False)
        if self.reduce_zero_label != results.get('reduce_zero_label',
                                                 self.reduce_zero_label):
            raise ValueError(
                'the dataset was built with reduce_zero_label='
                f"{results['reduce_zero_label']} but LoadFCNAnnotations has "
                f'reduce_zero_label={self.reduce_zero_label}')
        label_map = results.get('label_map')
        if self.reduce_zero_label or label_map:
            # one look-up table for both, same result as mmseg's LoadAnnotations
            lut = np.arange(256, dtype=np.uint8)
            if self.reduce_zero_label:
                lut = (lut.astype(np.int16) - 1).astype(np.uint8)  # 0 -> 255
                lut[255] = 255
            if label_map:
                mapped = lut.copy()
                for old_id, new_id in label_map.items():
                    mapped[lut == old_id] = new_id
                lut = mapped
            seg = lut[seg]

        if results.get('ori_shape') is not None:
            check_seg_map(seg, path, img_shape=results['ori_shape'],
                          img_path=results.get('img_path'))
        results['gt_seg_map'] = seg
        results.setdefault('seg_fields', []).append('gt_seg_map')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'reduce_zero_label={self.reduce_zero_label}, '
                f'backend_args={self.backend_args})')
