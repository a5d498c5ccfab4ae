"""Publish a training checkpoint: weights and meta only, named by its hash.

mmseg 1.2.2's tools/misc/publish_model.py loads the checkpoint with a bare
torch.load, which torch >= 2.6 refuses for the runner's checkpoints. This tool
loads it under the plugin's checkpoint policy (weights-only unpickling with the
allowlist; trusted://PATH only where you type it), keeps 'state_dict' (tensors
moved to the CPU) and 'meta' (dataset_meta, config, iteration, ...; a local
file's stored config is copied as text, never parsed, while a URL's is replaced by
the notice of mmseg_fcn_classic.engine.stored_config), drops the optimizer,
schedulers, message hub and everything else, writes the file atomically as
<out stem>-<first 8 hex digits of its sha256>.pth (mmseg's naming), and
checks that the written file loads under the same weights-only policy.

Example (python -m mmseg_fcn_classic.tools.publish works too; from a clone,
python tools/publish.py):
  mmseg-fcn-publish work_dirs/fcn8s_vgg16_voc/iter_100000.pth fcn8s_vgg16_voc.pth
"""
import argparse
import hashlib
import io
import os
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Tuple

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from ..engine.atomic_io import atomic_write_bytes
from ..engine.policy import load_checkpoint_file, scheme_of

#: What a published checkpoint keeps.
KEPT = ('state_dict', 'meta')


def published(checkpoint: Any, source: str) -> Tuple[Dict[str, Any], List[str]]:
    """The published form of a loaded checkpoint, and the keys it dropped.

    Args:
        checkpoint: A runner checkpoint (``state_dict``, ``meta``, ...) or a bare
            state dict.
        source (str): The file, for messages.

    Returns:
        tuple: ``({'state_dict': ..., 'meta': ...}, dropped keys)``.

    Raises:
        ValueError: No tensors to publish.

    Example:
        >>> ckpt = dict(state_dict={'w': torch.ones(1)}, meta={'iter': 2},
        ...             optimizer={}, message_hub={})
        >>> out, dropped = published(ckpt, 'x.pth')
        >>> sorted(out), dropped
        (['meta', 'state_dict'], ['message_hub', 'optimizer'])
    """
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{source}: not a checkpoint (a {type(checkpoint).__name__})')
    if 'state_dict' not in checkpoint:  # a bare state dict
        checkpoint = dict(state_dict=checkpoint)
    state = checkpoint['state_dict']
    if not isinstance(state, dict) or not any(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f'{source}: its state_dict holds no tensors')
    out = {'state_dict': {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v
                          for k, v in state.items()}}
    if checkpoint.get('meta') is not None:
        out['meta'] = checkpoint['meta']
    return out, sorted(k for k in checkpoint if k not in KEPT)


def publish(src: str, dst: str) -> Tuple[str, str, List[str]]:
    """Write the published form of ``src`` next to ``dst`` (see the module).

    Returns:
        tuple: ``(final path, sha256, dropped keys)``.
    """
    if scheme_of(src) is None:  # a run's own file: its config is copied as data
        checkpoint = load_checkpoint_file(src, map_location='cpu',
                                          keep_stored_configs=True)
    else:
        checkpoint = CheckpointLoader.load_checkpoint(src, map_location='cpu')
    out, dropped = published(checkpoint, src)
    buffer = io.BytesIO()
    torch.save(out, buffer)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    stem = dst[:-len('.pth')] if dst.endswith('.pth') else dst
    final = f'{stem}-{sha256[:8]}.pth'
    if osp.dirname(final):
        os.makedirs(osp.dirname(final), exist_ok=True)
    atomic_write_bytes(final, data)
    # what a user of the file will do: load it under the weights-only policy
    CheckpointLoader.load_checkpoint(final, map_location='cpu')
    return final, sha256, dropped


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='mmseg-fcn-publish', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('in_file', help='checkpoint to publish (trusted://PATH to '
                        'fully unpickle a file you produced yourself)')
    parser.add_argument('out_file', help='output name; the hash is appended')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        final, sha256, dropped = publish(args.in_file, args.out_file)
    except Exception as e:  # noqa: BLE001  (loaders name the file in their errors)
        print(f'error: cannot publish {args.in_file!r}: {type(e).__name__}: {e}',
              file=sys.stderr)
        return 1
    print(f'wrote {final} (sha256 {sha256}); kept {", ".join(KEPT)}'
          + (f'; dropped {", ".join(dropped)}' if dropped else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
