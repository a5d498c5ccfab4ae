"""tool_command: the command a hint names is one that runs here."""
from mmseg_fcn_classic.utils.commands import tool_command


def test_console_script_where_on_path_else_python_m(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    assert tool_command('convert_weights', 'a.caffemodel b.pth') == \
        'python -m mmseg_fcn_classic.tools.convert_weights a.caffemodel b.pth'
    script = tmp_path / 'mmseg-fcn-convert-weights'
    script.write_text('#!/bin/sh\n')
    script.chmod(0o755)
    assert tool_command('convert_weights', 'a.caffemodel b.pth') == \
        'mmseg-fcn-convert-weights a.caffemodel b.pth'
    assert tool_command('convert_weights') == 'mmseg-fcn-convert-weights'
