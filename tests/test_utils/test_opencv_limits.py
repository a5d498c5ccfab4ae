"""utils/opencv_limits.py: OpenCV's pixel limit, set to PIL's on import of the
package, before cv2 is loaded; each case in a fresh process, as users start one."""
import os
import subprocess
import sys

from PIL import Image

from mmseg_fcn_classic.testing.synthetic import write_png_header_only

DECODE = '''
import os, sys
import mmseg_fcn_classic
import cv2, numpy as np
data = np.fromfile(sys.argv[1], np.uint8)
try:
    cv2.imdecode(data, cv2.IMREAD_COLOR)
    print('decoded')
except cv2.error as e:
    print('refused' if 'CV_IO_MAX_IMAGE_PIXELS' in str(e) else e)
print(os.environ.get('OPENCV_IO_MAX_IMAGE_PIXELS'))
'''


def _decode(path, **env):
    base = {k: v for k, v in os.environ.items() if k != 'OPENCV_IO_MAX_IMAGE_PIXELS'}
    run = subprocess.run([sys.executable, '-c', DECODE, str(path)], env={**base, **env},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.split()[-2:]


def test_importing_the_package_first_gives_opencv_pils_limit(tmp_path):
    side = int(Image.MAX_IMAGE_PIXELS ** 0.5) + 1  # just above PIL's limit
    bomb = tmp_path / 'bomb.png'
    write_png_header_only(str(bomb), side, side)
    # OpenCV's own default (2**30) would go on to allocate side**2 * 3 bytes
    assert _decode(bomb) == ['refused', str(Image.MAX_IMAGE_PIXELS)]
    # a limit the user set is kept
    assert _decode(bomb, OPENCV_IO_MAX_IMAGE_PIXELS='2000000000') == [
        'decoded', '2000000000']


def test_infer_names_the_file_and_the_variable(tmp_path):
    """``--max-pixels 0`` (no limit of ours) meets OpenCV's: the error says which."""
    bomb = tmp_path / 'bomb.png'
    write_png_header_only(str(bomb), 100, 100)
    code = ('import sys; from mmseg_fcn_classic.apis.inference import read_image\n'
            'try:\n    read_image(sys.argv[1], max_pixels=0)\n'
            'except ValueError as e:\n    print(e)\n')
    run = subprocess.run([sys.executable, '-c', code, str(bomb)],
                         env=dict(os.environ, OPENCV_IO_MAX_IMAGE_PIXELS='1000'),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"cannot read image '{bomb}'" in run.stdout, run.stdout
    assert 'OPENCV_IO_MAX_IMAGE_PIXELS=1000 pixels' in run.stdout, run.stdout
