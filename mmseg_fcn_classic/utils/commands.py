"""How to run one of the package's tools where this process runs, for hints.

Error messages and help texts name a command the user can type. A clone's
``python tools/<tool>.py`` only works from the repository root; the installed
package has the console script ``mmseg-fcn-<tool>`` (on ``PATH`` while its
environment is active) and ``python -m mmseg_fcn_classic.tools.<tool>``, which
works wherever the package imports.
"""
import shutil


def tool_command(tool: str, args: str = '') -> str:
    """The command line that runs ``tool`` here.

    Args:
        tool (str): Module name in ``mmseg_fcn_classic.tools``, e.g.
            ``'convert_weights'``.
        args (str): Arguments to append. Defaults to none.

    Returns:
        str: ``mmseg-fcn-<tool> ARGS`` where that console script is on ``PATH``,
        else ``python -m mmseg_fcn_classic.tools.<tool> ARGS``.

    Example:
        >>> tool_command('convert_weights', 'SRC DST') in (
        ...     'mmseg-fcn-convert-weights SRC DST',
        ...     'python -m mmseg_fcn_classic.tools.convert_weights SRC DST')
        True
    """
    script = 'mmseg-fcn-' + tool.replace('_', '-')
    command = (script if shutil.which(script) else
               f'python -m mmseg_fcn_classic.tools.{tool}')
    return f'{command} {args}'.rstrip()
