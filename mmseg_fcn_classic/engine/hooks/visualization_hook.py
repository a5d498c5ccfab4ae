"""``FCNSegVisualizationHook``: mmseg's ``SegVisualizationHook``, silent while off."""
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS

from ...utils.quiet import ignored_warnings

#: mmseg 1.2.2's warning of ``SegVisualizationHook.__init__`` for ``draw=False``.
DRAW_IS_FALSE = 'The draw is False, it means that the hook for visualization'


@HOOKS.register_module()
class FCNSegVisualizationHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook``, without its warning while it is off.

    The shipped schedules name it in ``default_hooks.visualization``, where
    ``--show`` / ``--show-dir`` of ``mmseg-fcn-test`` and of mmseg's stock
    ``test.py`` find it and turn it on (``draw=True``). In training it stays off
    (``draw=False``, the default), and mmseg's hook would warn in every run that
    "the hook for visualization will not take effect". That one warning is dropped,
    around the parent's ``__init__``; the arguments and everything else are
    ``SegVisualizationHook``'s (``show=True`` still warns that the vis backends are
    left out).

    A schedule opts in with one key:
    ``default_hooks = dict(visualization=dict(type='FCNSegVisualizationHook'))``.
    """

    def __init__(self, *args, **kwargs) -> None:
        with ignored_warnings(UserWarning, DRAW_IS_FALSE):
            super().__init__(*args, **kwargs)
