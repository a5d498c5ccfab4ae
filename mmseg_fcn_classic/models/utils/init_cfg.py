"""Running mmengine's ``init_weights`` with some ``init_cfg`` entries held out."""
from typing import Callable, Optional


def init_holding_out(module, init_weights: Callable[[], None],
                     take: Callable[[dict], bool]) -> Optional[dict]:
    """Run ``init_weights`` with the ``init_cfg`` entries ``take`` selects held
    out, for the module to apply them itself afterwards.

    ``module.init_cfg`` is restored afterwards, also when ``init_weights`` raises.

    Args:
        module (BaseModule): The module whose ``init_cfg`` is read.
        init_weights (callable): The initialisation to run, e.g. the base class's
            ``init_weights`` bound to ``module``.
        take (callable): Selects the entries to hold out (a dict in, a bool out).

    Returns:
        dict or None: The last entry held out (the one that applies), or None.

    Example:
        >>> from types import SimpleNamespace
        >>> m = SimpleNamespace(init_cfg=[dict(type='Normal'),
        ...                               dict(type='Pretrained', checkpoint='a')])
        >>> seen = []
        >>> init_holding_out(m, lambda: seen.append(m.init_cfg),
        ...                  lambda cfg: cfg['type'] == 'Pretrained')
        {'type': 'Pretrained', 'checkpoint': 'a'}
        >>> seen, len(m.init_cfg)
        ([[{'type': 'Normal'}]], 2)
    """
    cfgs = module.init_cfg or []
    cfgs = [cfgs] if isinstance(cfgs, dict) else list(cfgs)
    held = [cfg for cfg in cfgs if take(cfg)]
    saved = module.init_cfg
    module.init_cfg = [cfg for cfg in cfgs if cfg not in held] or None
    try:
        init_weights()
    finally:
        module.init_cfg = saved
    return held[-1] if held else None
