"""Problem types and label-map checks."""
import numpy as np

from mmseg_fcn_classic.datasets.validation import Problem, format_problems, seg_map_problems


def test_format_problems_truncates():
    problems = [Problem('image without mask', f'id {i}', str(i))
                for i in range(12)] + [Problem('size mismatch', 'x')]
    text = format_problems(problems, max_listed=10)
    assert text.startswith('12 x image without mask:')
    assert 'id 9' in text and 'id 10' not in text
    assert '... and 2 more (12 in total)' in text
    assert '1 x size mismatch:' in text


def test_seg_map_problems():
    seg = np.zeros((4, 5), np.uint8)
    assert seg_map_problems(seg, 'a.png', img_shape=(4, 5), num_classes=2) == []
    seg[0, :2] = 255
    seg[1, 0] = 3
    kinds = [p.kind for p in seg_map_problems(seg, 'a.png', img_shape=(5, 4),
                                              num_classes=2)]
    assert kinds == ['size mismatch', 'invalid label values']
    rgb = np.zeros((4, 5, 3), np.uint8)
    assert [p.kind for p in seg_map_problems(rgb, 'a.png')] == \
        ['mask not single-channel']
    wide = np.full((2, 2), 300, np.int32)
    assert 'label values 300' in seg_map_problems(wide, 'a', num_classes=2)[
        0].message
