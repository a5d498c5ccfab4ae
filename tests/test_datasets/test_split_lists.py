"""Split list files: a repeated id or an empty file is an error naming the file."""
import pytest
from mmseg.registry import DATASETS

from mmseg_fcn_classic.datasets.validation import ListFileError, iter_ids
from mmseg_fcn_classic.testing.synthetic import make_polyps912_tree, make_voc_sbd_tree

VOC_LISTS = 'VOCdevkit/VOC2012/ImageSets/Segmentation'
SBD_LISTS = 'benchmark_RELEASE/dataset'


def build(type_, root, **kwargs):
    return DATASETS.build(dict(type=type_, data_root=str(root), serialize_data=False,
                               pipeline=[dict(type='LoadImageFromFile')], **kwargs))


@pytest.fixture
def voc_tree(tmp_path):
    return tmp_path, make_voc_sbd_tree(str(tmp_path))


def test_iter_ids(tmp_path):
    path = tmp_path / 'ids.txt'
    path.write_text('a extra words\n\n  b\nc\n')
    assert iter_ids(str(path)) == ['a', 'b', 'c']
    path.write_text('a\nb\na\nc\nb\nb\n')
    with pytest.raises(ListFileError) as err:
        iter_ids(str(path))
    assert str(path) in str(err.value)
    assert 'a: 2 times' in str(err.value) and 'b: 3 times' in str(err.value)
    assert [p.sample_id for p in err.value.problems] == ['a', 'b']
    path.write_text('\n  \n')
    with pytest.raises(ListFileError, match=f'list file {path} is empty'):
        iter_ids(str(path))


@pytest.mark.parametrize('split, list_file', [
    ('train', f'{VOC_LISTS}/train.txt'),
    ('sbd_val', f'{SBD_LISTS}/val.txt'),
    ('trainaug', f'{SBD_LISTS}/train.txt'),
])
def test_voc_duplicate_id_names_the_list(voc_tree, split, list_file):
    root, _ = voc_tree
    path = root / list_file
    ids = path.read_text().split()
    path.write_text('\n'.join(ids + [ids[1]]) + '\n')
    with pytest.raises(ListFileError) as err:
        build('PascalVOCSBDDataset', root, split=split)
    assert str(path) in str(err.value) and f'{ids[1]}: 2 times' in str(err.value)


def test_trainaug_lists_may_overlap_each_other(voc_tree):
    """trainaug unites VOC train, SBD train and SBD val, which share ids."""
    root, t = voc_tree
    shared = sorted(set(t['voc_train']) & (set(t['sbd_train']) | set(t['sbd_val'])))
    assert shared, 'the fixture must have ids listed by two files'
    ds = build('PascalVOCSBDDataset', root, split='trainaug')
    assert len(ds) == len(t['trainaug'])


@pytest.mark.parametrize('list_file', [f'{VOC_LISTS}/val.txt', 'mine.txt'])
def test_voc_empty_list_names_the_file(voc_tree, list_file):
    root, _ = voc_tree
    path = root / list_file
    path.write_text('')
    kwargs = dict(ann_file=str(path)) if list_file == 'mine.txt' else {}
    with pytest.raises(ListFileError) as err:
        build('PascalVOCSBDDataset', root, split='val', **kwargs)
    assert f'list file {path} is empty' in str(err.value)
    assert 'JPEGImages' not in str(err.value)


@pytest.mark.parametrize('content, message', [
    ('', 'is empty'), ('1\n2\n1\n', '1: 2 times')])
def test_polyps912_ann_file(tmp_path, content, message):
    root = tmp_path / 'polyps'
    make_polyps912_tree(str(root), counts=(2, 1, 1))
    path = tmp_path / 'ids.txt'
    path.write_text(content)
    with pytest.raises(ListFileError) as err:
        build('Polyps912Dataset', root, split='train', ann_file=str(path))
    assert str(path) in str(err.value) and message in str(err.value)
    assert 'no *.bmp images' not in str(err.value)
