"""What a config stored in a checkpoint may do: nothing. It is never parsed or built.

mmengine writes the run's config into every checkpoint (``meta['cfg']``; older
versions ``meta['config']``, newer ones also ``message_hub['runtime_info']['cfg']``)
and reads it back in two places: ``Runner.resume`` parses ``meta['config']`` (only
for a GPU-count warning), and ``BaseInferencer`` (``MMSegInferencer(model=None,
weights=CKPT)``) builds its model, pipeline and visualizer from it. Parsing honours
``custom_imports`` (any module on ``sys.path`` is imported) and building resolves a
dotted ``type`` by importing it (``type='os.system'`` calls ``os.system``), so a
stored config that is plain data still runs whatever code it names.

So every loader scheme except ``trusted://`` replaces each stored config with
:func:`stored_config_notice` before mmengine sees the checkpoint. The notice is a
config of one line, ``model = dict(type='StoredConfigNotUsed', checkpoint=...)``:
parsing it does nothing, and building it raises :class:`StoredConfigError`, which
says what to pass instead. Our own tools never read a stored config.
"""
import re
from typing import Any, Iterator, Tuple

from mmseg.registry import MODELS

#: Where mmengine stores the run's config in a checkpoint: (container, key).
STORED_CONFIG_KEYS = (('meta', 'cfg'), ('meta', 'config'), ('runtime_info', 'cfg'))
#: Characters of a checkpoint's name kept in the notice (the rest become ``_``).
_NAME_CHARS = re.compile(r'[^\w ./:@+=,~-]')
#: Longest checkpoint name kept in the notice.
MAX_NAME_CHARS = 400


class StoredConfigError(RuntimeError):
    """A model was to be built from the config stored in a checkpoint."""


def stored_config_notice(name: str) -> str:
    """The config text that replaces a checkpoint's stored config.

    Args:
        name (str): The checkpoint's file or URL, named when the notice is built.

    Returns:
        str: A config that mmengine parses without effect; building its model
        raises :class:`StoredConfigError`.

    Example:
        >>> print(stored_config_notice('work/it"er_8.pth'), end='')  # doctest: +ELLIPSIS
        # mmseg_fcn_classic: the config stored in this checkpoint was not loaded ...
        model = dict(type='StoredConfigNotUsed', checkpoint='work/it_er_8.pth')
    """
    safe = _NAME_CHARS.sub('_', name)[:MAX_NAME_CHARS]
    return ('# mmseg_fcn_classic: the config stored in this checkpoint was not loaded '
            '(a config read from a file can run code; pass the config by name or '
            'path)\n'
            f'model = dict(type={StoredConfigNotUsed.__name__!r}, checkpoint={safe!r})\n')


def stored_config_slots(checkpoint: Any) -> Iterator[Tuple[dict, str, str]]:
    """Each place of ``checkpoint`` that holds a stored config.

    Args:
        checkpoint: A loaded checkpoint.

    Yields:
        tuple: ``(container dict, key, description)``, e.g.
        ``(checkpoint['meta'], 'cfg', "meta['cfg']")``.
    """
    if not isinstance(checkpoint, dict):
        return
    meta = checkpoint.get('meta')
    hub = checkpoint.get('message_hub')
    info = hub.get('runtime_info') if isinstance(hub, dict) else None
    containers = {'meta': meta, 'runtime_info': info}
    for where, key in STORED_CONFIG_KEYS:
        container = containers[where]
        if isinstance(container, dict) and key in container:
            path = ("message_hub['runtime_info']" if where == 'runtime_info' else where)
            yield container, key, f'{path}[{key!r}]'


def neutralise_stored_configs(checkpoint: Any, name: str) -> Any:
    """Replace every stored config of ``checkpoint`` with :func:`stored_config_notice`.

    Args:
        checkpoint: A loaded checkpoint (changed in place).
        name (str): Its file or URL.

    Returns:
        The checkpoint.
    """
    for container, key, _ in stored_config_slots(checkpoint):
        container[key] = stored_config_notice(name)
    return checkpoint


@MODELS.register_module()
class StoredConfigNotUsed:
    """The model of :func:`stored_config_notice`: building it explains and fails.

    Args:
        checkpoint (str): The checkpoint whose stored config was replaced.
        **kwargs: Whatever mmseg's ``init_model`` adds (``train_cfg``, ...).

    Raises:
        StoredConfigError: Always; names the checkpoint and what to pass instead.
    """

    def __init__(self, checkpoint: str = 'the checkpoint', **kwargs) -> None:
        trusted = (f"load it as 'trusted://{checkpoint}'" if '://' not in checkpoint
                   else "copy it to a local file and load that as 'trusted://PATH'")
        raise StoredConfigError(
            f'checkpoint {checkpoint}: the config stored in it is not used, because '
            'building from a config read from a file can run any code that config '
            'names. Pass the config by name or path instead, e.g. '
            f"MMSegInferencer(model='fcn8s_vgg16_voc', weights='{checkpoint}', "
            "scope='mmseg_fcn_classic') or MMSegInferencer(model='path/to/config.py', "
            f"weights=...); mmseg.apis.init_model('path/to/config.py', "
            f"'{checkpoint}'). If you produced this checkpoint yourself, {trusted} "
            'to use its stored config.')
