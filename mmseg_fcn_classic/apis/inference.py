"""Segment image files with a config and checkpoint; write label and overlay PNGs.

mmseg's :func:`~mmseg.apis.init_model` builds the model; the test pipeline of the
config is reused without its annotation loaders (``LoadAnnotations``,
``LoadFCNAnnotations``), reading each image here so that an unreadable file gives an
error naming it.
"""
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from PIL import Image

from ..datasets.validation import header_size
from ..models.segmentors import decode_heads
from ..models.utils.heads import head_fields, head_meta, select_head
from ..utils.opencv_limits import OPENCV_PIXELS_ENV
from ..visualization.palette import label_image, overlay_image, resolve_palette

#: File suffixes collected from folders (case-insensitive).
IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
#: Largest image (width x height) segmented by default. Activation memory grows with
#: the pixel count (a VGG16 FCN keeps 64-channel maps of the padded image), so a
#: small, highly compressed file can otherwise take the machine's memory.
MAX_PIXELS = 4096 * 4096


def collect_images(inputs: Sequence[str]) -> List[Tuple[str, str]]:
    """List the images named by files and folders (recursively, sorted).

    Args:
        inputs (Sequence[str]): Image files and/or folders.

    Returns:
        list[tuple[str, str]]: ``(path, name)`` pairs; ``name`` is the output
        name without suffix: the file's stem, or its path under the folder given.

    Raises:
        FileNotFoundError: An input does not exist.
        ValueError: No images at all, or two inputs map to the same output name.
    """
    found: List[Tuple[str, str]] = []
    for item in inputs:
        if osp.isdir(item):
            for root, dirs, files in os.walk(item):
                dirs.sort()
                for fname in sorted(files):
                    if fname.lower().endswith(IMG_SUFFIXES):
                        path = osp.join(root, fname)
                        found.append((path, osp.splitext(osp.relpath(path, item))[0]))
        elif osp.isfile(item):
            found.append((item, osp.splitext(osp.basename(item))[0]))
        else:
            raise FileNotFoundError(f'input {item!r} does not exist')
    if not found:
        raise ValueError(f'no images ({", ".join(IMG_SUFFIXES)}) found in '
                         f'{", ".join(inputs)}')
    seen: Dict[str, str] = {}
    for path, name in found:
        if name in seen:
            raise ValueError(f'{seen[name]!r} and {path!r} would both be written as '
                             f'{name!r}; run them separately')
        seen[name] = path
    return found


def check_pixels(path: str, width: int, height: int, max_pixels: Optional[int]) -> None:
    """Raise ValueError when an image has more than ``max_pixels`` pixels."""
    if max_pixels and width * height > max_pixels:
        raise ValueError(
            f'image {path!r} is {width}x{height} = {width * height:,} pixels, above '
            f'the limit of {max_pixels:,} (--max-pixels): memory and time grow with '
            'the pixel count. Resize it, or raise --max-pixels (0: no limit).')


def read_image(path: str, max_pixels: Optional[int] = None) -> np.ndarray:
    """Read an image file as BGR uint8 (the way LoadImageFromFile does).

    Args:
        path (str): The image file.
        max_pixels (int, optional): Refuse larger images, checked from the header
            (read by PIL) before anything is decoded; with a limit, a file whose
            header PIL cannot read is refused too, since its decoded size is
            unknown. Defaults to None (no limit).

    Raises:
        ValueError: The file cannot be decoded as an image, is too large, or (with
            a limit) has no header PIL reads; names the file.
    """
    size = header_size(path)
    if size is not None:
        check_pixels(path, *size, max_pixels)
    elif max_pixels:
        raise ValueError(
            f'cannot read image {path!r}: its size is not in a header PIL reads (not a '
            'PNG, JPEG, BMP or TIFF, or damaged), so decoding it could take any '
            'amount of memory. Convert it to PNG or JPEG, or pass --max-pixels 0 (no '
            'limit) to decode it anyway.')
    with open(path, 'rb') as f:
        data = f.read()
    try:
        img = mmcv.imfrombytes(data, flag='color', backend='cv2')
    except Exception as e:  # noqa: BLE001  (decoders raise various errors)
        hint = ''
        if 'CV_IO_MAX_IMAGE_PIXELS' in str(e):
            hint = (f' OpenCV refuses to decode more than {OPENCV_PIXELS_ENV}='
                    f'{os.environ.get(OPENCV_PIXELS_ENV, "1073741824 (its default)")} '
                    'pixels, read when it is loaded; set that variable in the '
                    'environment to decode larger images.')
        raise ValueError(f'cannot read image {path!r}: {e}'.rstrip() + hint) from None
    if img is None:
        raise ValueError(f'cannot read image {path!r}: not a decodable image')
    check_pixels(path, img.shape[1], img.shape[0], max_pixels)
    return img


def build_inference_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline, fed arrays, without annotation loading.

    A multi-modal pipeline keeps its ``LoadMultiModalImageFromFiles``, which reads
    the files named in ``modality_paths`` (see :func:`modality_files`).
    """
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        pipeline = cfg.test_dataloader.dataset.pipeline
    steps = []
    for t in pipeline:
        t = dict(t)
        if 'Annotation' in t['type']:
            continue
        if t['type'] == 'LoadImageFromFile':
            t = dict(type='LoadImageFromNDArray')
        steps.append(t)
    if not steps or steps[0]['type'] not in ('LoadImageFromNDArray',
                                              'LoadMultiModalImageFromFiles'):
        raise ValueError('the test pipeline must start with LoadImageFromFile (or '
                         'LoadMultiModalImageFromFiles)')
    return Compose(steps)


def config_modalities(cfg: Config) -> Optional[Tuple[str, ...]]:
    """The modalities a config's model reads (``MultiModalDataPreProcessor``), in
    stacking order; None for a plain image model."""
    pre = cfg.get('model', {}).get('data_preprocessor') or {}
    if pre.get('type') != 'MultiModalDataPreProcessor':
        return None
    return tuple(pre.get('modalities', ('color', )))


def modality_files(path: str, name: str, modalities: Sequence[str],
                   modality_dirs: Dict[str, str]) -> Dict[str, str]:
    """The files of one image's modalities: ``path`` is the first modality's, each
    other one is the file of the same name under its folder.

    Args:
        path (str): The image given (the first modality, e.g. colour).
        name (str): Its name without suffix, relative to the folder given
            (:func:`collect_images`).
        modalities (Sequence[str]): The model's modalities, in order.
        modality_dirs (dict[str, str]): A folder for each other modality.

    Returns:
        dict[str, str]: ``{modality: file}``.

    Raises:
        ValueError: No file, or several, of that name (any image suffix; the
            image's own suffix wins) under a modality's folder; names what was
            looked for.
    """
    files = {modalities[0]: path}
    own = osp.splitext(path)[1]
    for modality in modalities[1:]:
        folder = modality_dirs[modality]
        if osp.isfile(osp.join(folder, name + own)):
            files[modality] = osp.join(folder, name + own)
            continue
        found = [osp.join(folder, name + s) for s in IMG_SUFFIXES
                 if osp.isfile(osp.join(folder, name + s))]
        if len(found) != 1:
            raise ValueError(
                f'{path}: {"no" if not found else "more than one"} {modality} image '
                f'named {name}{own} (or another image suffix) in {folder!r}'
                + (f': {found}' if found else ''))
        files[modality] = found[0]
    return files


def check_modality_dirs(cfg: Config, modality_dirs: Optional[Dict[str, str]]) -> None:
    """Raise ValueError unless ``modality_dirs`` gives exactly the folders of the
    model's modalities after the first, explaining the form the inputs need."""
    modalities = config_modalities(cfg)
    given = {k: v for k, v in (modality_dirs or {}).items() if v is not None}
    if modalities is None:
        if given:
            raise ValueError(f'this model reads plain images; --{"/--".join(given)} '
                             'apply only to configs with MultiModalDataPreProcessor')
        return
    needed = set(modalities[1:])
    form = (f'this model reads the modalities {modalities}: give the '
            f'{modalities[0]} images as inputs' + ''.join(
                f' and --{m} DIR (the {m} images, same file names)'
                for m in modalities[1:]))
    if set(given) != needed:
        missing, extra = needed - set(given), set(given) - needed
        raise ValueError(form + (f'; missing: --{", --".join(sorted(missing))}'
                                 if missing else '') +
                         (f'; not read by this model: --{", --".join(sorted(extra))}'
                          if extra else ''))
    for modality, folder in given.items():
        if not osp.isdir(folder):
            raise ValueError(f'--{modality} {folder!r} is not a folder; ' + form)


def config_metainfo(cfg: Config) -> dict:
    """``classes`` / ``palette`` of the config's test dataset, if it names one."""
    from mmseg.registry import DATASETS
    dataset = cfg.get('test_dataloader', {}).get('dataset', {}) or {}
    meta: dict = {}
    cls = DATASETS.get(dataset.get('type', '')) if dataset.get('type') else None
    if cls is not None:
        meta.update(getattr(cls, 'METAINFO', {}) or {})
    meta.update(dataset.get('metainfo', None) or {})
    return meta


def resolve_dataset_meta(model: torch.nn.Module, *metas: Optional[dict]) -> dict:
    """Class names and palette of every head of ``model``, from the first of
    ``metas`` that fits each head's number of classes (else generated).

    Args:
        model (nn.Module): A segmentor (one head, or a ``MultiHeadEncoderDecoder``).
        *metas (dict, optional): Dataset metas, most trusted first.

    Returns:
        dict: ``classes`` and ``palette``, and ``<head>_classes`` /
        ``<head>_palette`` for the other heads.
    """
    result: dict = {}
    for name, head in decode_heads(model).items():
        num_classes = head.num_classes
        options = [head_meta(meta, name) for meta in metas]
        for meta in options:
            if meta['classes'] and len(meta['classes']) == num_classes:
                classes = list(meta['classes'])
                break
        else:
            classes = [str(i) for i in range(num_classes)]
        fields = head_fields(name)
        result[fields.classes] = classes
        result[fields.palette] = resolve_palette(num_classes, *options)
    return result


def init_model(config: str, checkpoint: str, device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> torch.nn.Module:
    """Build a model with mmseg's ``init_model`` and load ``checkpoint``.

    The checkpoint goes through the loader schemes (the safe loading policy of
    :mod:`mmseg_fcn_classic.engine.policy`) and must fit the model: missing,
    unexpected or mis-sized tensors are an error naming them, unless ``strict`` is
    False (a partial load, logged). ``model.dataset_meta`` comes from the
    checkpoint's ``meta['dataset_meta']``, else from the config's test dataset,
    else it is a generated palette; for every head of a multi-head model
    (:func:`resolve_dataset_meta`). The config stored in the checkpoint is never
    used.

    Args:
        config (str | Config): The model config.
        checkpoint (str): Checkpoint path or URL.
        device (str): Defaults to ``'cpu'``.
        cfg_options (dict, optional): Config overrides. Defaults to None.
        strict (bool): Fail when the checkpoint does not fit. Defaults to True.

    Returns:
        nn.Module: The model in eval mode, with ``cfg`` and ``dataset_meta``.

    Raises:
        CheckpointMismatchError: ``strict`` and the weights do not fit.
    """
    from mmseg.apis import init_model as mmseg_init_model

    from ..engine.weights import load_model_weights
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model = mmseg_init_model(cfg, None, device='cpu', cfg_options=cfg_options)
    ckpt = load_model_weights(model, checkpoint, strict=strict, map_location='cpu')
    ckpt_meta = (ckpt.get('meta') or {}).get('dataset_meta') if isinstance(
        ckpt, dict) else None
    model.dataset_meta = resolve_dataset_meta(model, ckpt_meta,
                                              config_metainfo(model.cfg))
    model.to(device)
    model.eval()
    return model


def segment_image(model: torch.nn.Module, pipeline: Compose,
                  img: Optional[np.ndarray], head: Optional[str] = None,
                  results: Optional[dict] = None) -> np.ndarray:
    """Run one BGR image (or the pipeline's input ``results``, e.g. the files of a
    multi-modal sample) through the pipeline and model; return ``(H, W)`` labels
    of head ``head`` (None: the primary head, mmseg's ``pred_sem_seg``)."""
    data = pipeline(dict(img=img) if results is None else dict(results))
    batch = dict(inputs=[data['inputs']], data_samples=[data['data_samples']])
    with torch.no_grad():
        result = model.test_step(batch)[0]
    return result.get(head_fields(head).pred).data[0].cpu().numpy()


def check_head(model: torch.nn.Module, head: Optional[str]) -> None:
    """Raise ValueError unless ``head`` is None or a non-primary head of ``model``."""
    heads = [name for name in decode_heads(model) if name is not None]
    if head is not None and head not in heads:
        raise ValueError(f'the model has no head {head!r}; its other heads: '
                         f'{", ".join(heads) or "none (one head)"}')


def show_result(model: torch.nn.Module, img, result, head: Optional[str] = None,
                **kwargs) -> np.ndarray:
    """mmseg's ``show_result_pyplot`` for head ``head`` of a prediction.

    Args:
        model (nn.Module): The segmentor (its ``dataset_meta`` names each head's
            classes and palette).
        img (str | np.ndarray): The image.
        result (SegDataSample): From mmseg's ``inference_model``.
        head (str, optional): The head to draw, e.g. ``'geo'``. Defaults to None
            (the primary head, as ``show_result_pyplot`` draws it).
        **kwargs: ``show_result_pyplot`` arguments (``opacity``, ``out_file``,
            ``show``, ...).

    Returns:
        np.ndarray: The drawn RGB image.
    """
    from types import SimpleNamespace

    from mmseg.apis import show_result_pyplot
    if head is None:
        return show_result_pyplot(model, img, result, **kwargs)
    check_head(model, head)
    meta = head_meta(model.dataset_meta, head)
    view = SimpleNamespace(dataset_meta=dict(
        classes=meta['classes'],
        palette=resolve_palette(len(meta['classes']), meta)))
    return show_result_pyplot(view, img, select_head(result, head), **kwargs)


def run_inference(model: torch.nn.Module,
                  inputs: Sequence[str],
                  out_dir: str,
                  opacity: float = 0.5,
                  timing: bool = False,
                  progress: bool = True,
                  max_pixels: Optional[int] = MAX_PIXELS,
                  errors: Optional[List[Tuple[str, str]]] = None,
                  head: Optional[str] = None,
                  modality_dirs: Optional[Dict[str, str]] = None) -> List[dict]:
    """Segment every image of ``inputs``; write ``labels/`` and ``overlays/`` PNGs.

    Args:
        model (nn.Module): From :func:`init_model` (or mmseg's ``init_model``).
        inputs (Sequence[str]): Image files and folders (searched recursively for
            :data:`IMG_SUFFIXES`).
        out_dir (str): Gets ``labels/<name>.png`` (palette PNG, pixel = class
            index) and ``overlays/<name>.png`` (colours blended over the image).
        opacity (float): Weight of the colours in the overlay. Defaults to 0.5.
        timing (bool): Print the model time of each image. Defaults to False.
        progress (bool): Show a progress bar. Defaults to True.
        max_pixels (int, optional): Refuse images with more pixels (None or 0: no
            limit). Defaults to :data:`MAX_PIXELS`.
        errors (list, optional): If given, an image that cannot be read, segmented
            or written is reported here as ``(path, message)`` and the others go
            on; if None, the first failure raises. Defaults to None.
        head (str, optional): Segment with this head of a multi-head model
            (e.g. SIFT Flow's ``'geo'``). Defaults to None (the primary head).
        modality_dirs (dict[str, str], optional): For a multi-modal model
            (``MultiModalDataPreProcessor``, e.g. NYUDv2 colour + HHA): ``inputs``
            are the first modality's images and this maps each other modality to
            the folder holding its image of the same name (``{'hha': DIR}``).
            Checked by :func:`check_modality_dirs`.

    Returns:
        list[dict]: Per segmented image: ``path``, ``label_file``,
        ``overlay_file``, ``seconds`` (model time).
    """
    from tqdm import tqdm
    if not 0 <= opacity <= 1:
        raise ValueError(f'opacity must be in [0, 1], got {opacity}')
    check_head(model, head)
    check_modality_dirs(model.cfg, modality_dirs)
    modalities = config_modalities(model.cfg)
    images = collect_images(inputs)
    pipeline = build_inference_pipeline(model.cfg)
    palette = head_meta(model.dataset_meta, head)['palette']
    device = next(model.parameters()).device
    records = []
    bar = tqdm(images, desc='segmenting', unit='img', disable=not progress)
    for path, name in bar:
        try:
            files = None if modalities is None else modality_files(
                path, name, modalities, modality_dirs or {})
            record = _segment_file(model, pipeline, palette, device, path, name,
                                   out_dir, opacity, max_pixels, head, files)
        except (ValueError, OSError, RuntimeError) as e:
            if errors is None:
                raise
            errors.append((path, str(e)))
            bar.write(f'failed: {path}: {e}')
            continue
        if timing:
            bar.write(f'{path}: {record["width"]}x{record["height"]} in '
                      f'{record["seconds"] * 1000:.1f} ms')
        records.append(record)
    if timing and records:
        mean = sum(r['seconds'] for r in records) / len(records)
        bar.write(f'{len(records)} images, mean {mean * 1000:.1f} ms per image')
    return records


def _segment_file(model, pipeline, palette, device, path: str, name: str,
                  out_dir: str, opacity: float, max_pixels: Optional[int],
                  head: Optional[str] = None,
                  files: Optional[Dict[str, str]] = None) -> dict:
    img = read_image(path, max_pixels)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    if files is None:
        label = segment_image(model, pipeline, img, head)
    else:  # the pipeline's LoadMultiModalImageFromFiles reads every modality
        label = segment_image(model, pipeline, None, head,
                              dict(img_path=path, modality_paths=files,
                                   modalities=tuple(files)))
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    label_file = osp.join(out_dir, 'labels', name + '.png')
    overlay_file = osp.join(out_dir, 'overlays', name + '.png')
    for f in (label_file, overlay_file):
        os.makedirs(osp.dirname(f), exist_ok=True)
    label_image(label, palette).save(label_file)
    Image.fromarray(overlay_image(img, label, palette, opacity)).save(overlay_file)
    return dict(path=path, label_file=label_file, overlay_file=overlay_file,
                seconds=seconds, width=img.shape[1], height=img.shape[0])


#: mmseg 0.x's name of :func:`init_model`.
init_segmentor = init_model
