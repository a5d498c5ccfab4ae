"""Problem types and label checks shared by the datasets and the label loader.

Everything here reports problems by file name, so a broken sample is never silently
dropped or swapped for another one:

* :class:`Problem` is one finding (a kind plus a message naming the file(s));
  :class:`DatasetError` carries a list of them and formats them grouped by kind,
  with counts and the first few ids of each kind.
* :func:`seg_map_problems` / :func:`check_seg_map` check one decoded label map
  against its image size and the allowed values (the classes plus the ignore index).
* :func:`image_size_problem` checks an image file's size from its header, before
  anything decodes it.
"""
import re
import warnings
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

#: How many ids or files an error message lists per kind of problem.
MAX_LISTED = 10


@dataclass(frozen=True)
class Problem:
    """One problem found in a dataset.

    Args:
        kind (str): Short category, e.g. ``'image without mask'``; used to group
            and count problems.
        message (str): Full description naming the file(s) involved.
        sample_id (str, optional): The sample's id (file stem), when there is one.
    """
    kind: str
    message: str
    sample_id: Optional[str] = None


def format_problems(problems: Sequence[Problem],
                    max_listed: int = MAX_LISTED) -> str:
    """Group ``problems`` by kind: a count per kind and up to ``max_listed``
    messages each.

    Args:
        problems (Sequence[Problem]): The problems to describe.
        max_listed (int): Messages shown per kind. Defaults to 10.

    Returns:
        str: A multi-line description.
    """
    by_kind: 'OrderedDict[str, List[Problem]]' = OrderedDict()
    for p in problems:
        by_kind.setdefault(p.kind, []).append(p)
    lines = []
    for kind, items in by_kind.items():
        lines.append(f'{len(items)} x {kind}:')
        for p in items[:max_listed]:
            lines.append('  ' + p.message.replace('\n', '\n  '))
        if len(items) > max_listed:
            lines.append(f'  ... and {len(items) - max_listed} more '
                         f'({len(items)} in total)')
    return '\n'.join(lines)


class DatasetError(ValueError):
    """A dataset that cannot be used as it is on disk.

    Args:
        header (str): First line of the message.
        problems (Sequence[Problem]): What is wrong; listed grouped by kind.
    """

    def __init__(self, header: str, problems: Sequence[Problem] = ()):
        self.problems = list(problems)
        message = header
        if self.problems:
            message += '\n' + format_problems(self.problems)
        super().__init__(message)


class DatasetLayoutError(DatasetError, FileNotFoundError):
    """A root folder, sub-folder or list file is missing."""


class SampleError(DatasetError):
    """One sample could not be loaded, or its label map is invalid."""


def missing_path_problem(path: str, layout: str, what: str = 'folder') -> Problem:
    """A :class:`Problem` for a missing folder or file, showing the expected
    layout."""
    return Problem(f'missing {what}',
                   f'{what} not found: {path}\nexpected layout:\n{layout}')


def natural_key(name: str) -> Tuple:
    """Sort key putting ``'2'`` before ``'10'`` (EndoScene frames are numbered)."""
    return tuple(int(t) if t.isdigit() else t
                 for t in re.split(r'(\d+)', name))


def label_histogram(seg_map: np.ndarray) -> np.ndarray:
    """Pixel count of every label value 0..255 of a uint8 label map."""
    return np.bincount(seg_map.ravel(), minlength=256)[:256]


def seg_map_problems(seg_map: np.ndarray,
                     seg_map_path: str,
                     img_shape: Optional[Sequence[int]] = None,
                     img_path: Optional[str] = None,
                     num_classes: Optional[int] = None,
                     ignore_index: int = 255,
                     histogram: Optional[np.ndarray] = None) -> List[Problem]:
    """Check one decoded label map.

    Args:
        seg_map (np.ndarray): The label map after any label mapping (void to the
            ignore index), as the loss would see it.
        seg_map_path (str): Its file, named in the messages.
        img_shape (Sequence[int], optional): (H, W) of the image. Defaults to None
            (size not checked).
        img_path (str, optional): The image file, named in a size mismatch.
        num_classes (int, optional): Valid labels are ``0..num_classes-1`` plus
            ``ignore_index``. Defaults to None (values not checked).
        ignore_index (int): The ignored label. Defaults to 255.
        histogram (np.ndarray, optional): A precomputed :func:`label_histogram`.

    Returns:
        list[Problem]: Empty when the label map is fine.
    """
    problems = []
    if seg_map.ndim != 2:
        problems.append(Problem(
            'mask not single-channel',
            f'{seg_map_path}: decoded to shape {tuple(seg_map.shape)}; expected '
            'a single-channel map of class indices (H, W). A palette PNG read '
            "through cv2 comes out as colours: read it with 'pillow'."))
        return problems
    if img_shape is not None and tuple(seg_map.shape) != tuple(img_shape[:2]):
        problems.append(Problem(
            'size mismatch',
            f'{seg_map_path}: mask is {seg_map.shape[0]}x{seg_map.shape[1]} '
            f'(HxW) but its image {img_path or ""} is '
            f'{img_shape[0]}x{img_shape[1]}'))
    if num_classes is not None:
        if histogram is None and seg_map.dtype == np.uint8:
            histogram = label_histogram(seg_map)
        if histogram is not None:
            values = np.flatnonzero(histogram)
            counts = histogram[values]
        else:
            values, counts = np.unique(np.asarray(seg_map), return_counts=True)
        valid = ((values >= 0) & (values < num_classes)) | (values == ignore_index)
        if not valid.all():
            shown = ', '.join(f'{v} ({c} px)' for v, c in
                              zip(values[~valid][:20], counts[~valid][:20]))
            problems.append(Problem(
                'invalid label values',
                f'{seg_map_path}: label values {shown} are neither a class '
                f'(0..{num_classes - 1}) nor the ignore index {ignore_index}'))
    return problems


def check_seg_map(seg_map: np.ndarray, seg_map_path: str, **kwargs) -> None:
    """Raise :class:`SampleError` when :func:`seg_map_problems` finds anything.

    Args:
        seg_map (np.ndarray): The label map.
        seg_map_path (str): Its file.
        **kwargs: Passed to :func:`seg_map_problems`.
    """
    problems = seg_map_problems(seg_map, seg_map_path, **kwargs)
    if problems:
        raise SampleError(f'invalid label map {seg_map_path}', problems)


class ListFileError(DatasetError):
    """A split's id list file that is empty or lists an id twice."""


def iter_ids(path: str) -> List[str]:
    """Ids of a list file: one per line (its first word), blank lines skipped.

    Args:
        path (str): The list file.

    Returns:
        list[str]: The ids, in file order.

    Raises:
        ListFileError: The file lists no id, or an id more than once (it would be
            trained or evaluated twice); names the file and the ids.
    """
    with open(path) as f:
        ids = [line.split()[0] for line in f if line.strip()]
    if not ids:
        raise ListFileError(f'list file {path} is empty: it should list one sample '
                            'id per line', [Problem('empty list file', path)])
    counts = Counter(ids)
    repeated = [i for i, n in counts.items() if n > 1]
    if repeated:
        raise ListFileError(
            f'list file {path} lists {len(repeated)} id(s) more than once; each id '
            'must appear once (remove the repeated lines)',
            [Problem('id listed more than once',
                     f'{i}: {counts[i]} times in {path}', i) for i in repeated])
    return ids


def header_size(path: str) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from an image file's header, without decoding it.

    Returns:
        tuple | None: None when PIL cannot parse the header (cv2 may still decode).

    Raises:
        ValueError: PIL refuses the image as a decompression bomb (more than twice
            ``PIL.Image.MAX_IMAGE_PIXELS``); names the file.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return img.size
    except Image.DecompressionBombError as e:
        raise ValueError(f'image {path!r} is too large: {e}') from None
    except Exception:  # noqa: BLE001  (PIL raises many kinds for foreign files)
        return None


def max_dataset_pixels() -> Optional[int]:
    """The largest image a dataset decodes: PIL's ``Image.MAX_IMAGE_PIXELS``.

    That is PIL's own decompression-bomb threshold (about 89 million pixels,
    9459x9459), the one knob the ecosystem already knows: raise it (or set it to
    None) for datasets of larger images.
    """
    return Image.MAX_IMAGE_PIXELS


def image_size_problem(path: str, max_pixels: Optional[int] = None,
                       kind: str = 'image') -> Optional[Problem]:
    """A :class:`Problem` when an image file is larger than ``max_pixels``, read
    from its header before anything decodes it.

    Args:
        path (str): The image or label file. Files without a header PIL reads
            (``.mat`` labels) are not checked.
        max_pixels (int, optional): The limit. Defaults to :func:`max_dataset_pixels`.
        kind (str): ``'image'`` or ``'mask'``, for the problem's kind.

    Returns:
        Problem | None
    """
    max_pixels = max_dataset_pixels() if max_pixels is None else max_pixels
    try:
        size = header_size(path)
    except ValueError as e:
        return Problem(f'{kind} too large', f'{e} (not decoded)')
    if size is None or not max_pixels or size[0] * size[1] <= max_pixels:
        return None
    return Problem(
        f'{kind} too large',
        f'{path}: {size[0]}x{size[1]} = {size[0] * size[1]:,} pixels, above the limit '
        f'of {max_pixels:,} (PIL.Image.MAX_IMAGE_PIXELS); not decoded')
