"""A ``BaseSegDataset`` that refuses broken data instead of working around it."""
import os
from typing import Dict, Iterator, List, Tuple

from mmseg.datasets import BaseSegDataset
from mmseg.datasets.transforms import LoadAnnotations

from ..utils.commands import tool_command
from .validation import (DatasetError, DatasetLayoutError, Problem, SampleError,
                         check_seg_map, image_size_problem)


def _is_file(entry: os.DirEntry) -> bool:
    """``entry.is_file()``; an entry whose status cannot be read (a symlink loop)
    counts as a file, so that reading it reports it by name like any bad file."""
    try:
        return entry.is_file()
    except OSError:
        return True


def list_stems(folder: str, suffix: str) -> Dict[str, str]:
    """Map file stem -> file name for the files of ``folder`` ending in ``suffix``
    (case-insensitive, not recursive)."""
    suffix = suffix.lower()
    with os.scandir(folder) as entries:
        return {
            e.name[:-len(suffix)]: e.name
            for e in entries
            if e.name.lower().endswith(suffix) and len(e.name) > len(suffix)
            and _is_file(e)
        }


def _walk_transforms(transforms) -> Iterator[object]:
    for t in transforms:
        yield t
        for attr in ('transforms', 'subroutines'):
            inner = getattr(t, attr, None)
            if isinstance(inner, (list, tuple)):
                yield from _walk_transforms(inner)


class StrictSegDataset(BaseSegDataset):
    """Base of this package's datasets: strict listing, strict loading.

    Subclasses implement :meth:`list_samples`, which returns the data infos of the
    complete image/label pairs together with every listing problem (missing
    folders, images without labels, labels without images). Then:

    * :meth:`load_data_list` raises :class:`DatasetError` listing the problems
      (ids grouped by kind, with counts), so nothing is dropped silently;
    * :meth:`prepare_data` first reads the image and label sizes from their
      headers and refuses a file larger than PIL's ``Image.MAX_IMAGE_PIXELS``
      before anything decodes it; then it runs the pipeline one transform at a
      time. An exception is re-raised naming the sample's image and label files,
      a transform returning ``None`` is an error (mmengine would otherwise fetch
      another sample, up to 1,000 times, hiding a broken file), and the first
      time the label map appears it is checked: single channel, same size as the
      image, values within the classes or the ignore index.

    These checks hold for a plain mmseg ``LoadAnnotations`` in the pipeline too.
    """

    def list_samples(self) -> Tuple[List[dict], List[Problem]]:
        """Data infos of the complete samples, and every listing problem.

        Returns:
            tuple[list[dict], list[Problem]]
        """
        raise NotImplementedError

    def pipeline_problems(self, data_list: List[dict]) -> List[Problem]:
        """Problems of the pipeline with these samples: mmseg's
        ``LoadAnnotations`` cannot decode SBD ``.mat`` labels."""
        has_mat = any(
            str(info.get('seg_map_path', '')).lower().endswith('.mat')
            for info in data_list)
        if not has_mat:
            return []
        plain = [t for t in _walk_transforms(self.pipeline.transforms)
                 if type(t) is LoadAnnotations]
        if not plain:
            return []
        return [Problem(
            'pipeline cannot read labels',
            "the pipeline loads labels with mmseg's LoadAnnotations, which "
            'cannot read the SBD .mat labels of this split; use '
            "dict(type='LoadFCNAnnotations') instead (same keys and behaviour, "
            'and it reads .mat, palette .png and .tif labels)')]

    def load_data_list(self) -> List[dict]:
        """List the samples, raising on any listing problem."""
        data_list, problems = self.list_samples()
        problems = problems + self.pipeline_problems(data_list)
        if problems:
            cls = DatasetLayoutError if any(
                p.kind.startswith('missing ') for p in problems) else DatasetError
            raise cls(f'{self.__class__.__name__}: the data on disk cannot be '
                      'used as it is', problems)
        return data_list

    def prepare_data(self, idx: int):
        """Run the pipeline on sample ``idx``; never return ``None``."""
        info = self.get_data_info(idx)
        files = (f"image {info.get('img_path')}, "
                 f"label {info.get('seg_map_path')}")
        too_large = [p for p in (
            image_size_problem(info['img_path'], kind='image') if info.get('img_path')
            else None,
            image_size_problem(info['seg_map_path'], kind='mask')
            if info.get('seg_map_path') else None) if p is not None]
        if too_large:
            raise SampleError(f'sample {idx} ({files}): too large to decode', too_large)
        num_classes = len(self.metainfo.get('classes', ()))
        values_checked = size_checked = False
        results = info
        for t in self.pipeline.transforms:
            try:
                results = t(results)
            except SampleError as e:
                err = SampleError(f'sample {idx} ({files}): {e}')
                err.problems = e.problems
                raise err from e
            except Exception as e:  # noqa: BLE001  (re-raised naming the files)
                raise SampleError(
                    f'sample {idx} ({files}): {type(t).__name__} failed: '
                    f'{type(e).__name__}: {e}') from e
            if results is None:
                raise SampleError(
                    f'sample {idx} ({files}): {type(t).__name__} returned None. '
                    'mmengine would silently replace the sample with another '
                    'one; a broken file must be fixed instead (run '
                    f'`{tool_command("check_dataset", "CONFIG")}`).')
            if not isinstance(results, dict) or 'gt_seg_map' not in results:
                continue
            seg = results['gt_seg_map']
            path = info.get('seg_map_path')
            if not values_checked:
                values_checked = True
                check_seg_map(seg, path, num_classes=num_classes or None,
                              ignore_index=self.ignore_index)
            if not size_checked and results.get('ori_shape') is not None:
                size_checked = True
                check_seg_map(seg, path, img_shape=results['ori_shape'],
                              img_path=info.get('img_path'))
        return results
