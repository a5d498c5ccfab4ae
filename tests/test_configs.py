"""Every shipped config loads; its model and datasets build on fixture trees, and a
Runner built from it (narrowed model, fixture data) trains, validates and tests."""
import glob
import logging
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import DATASETS, MODELS

import mmseg_fcn_classic  # noqa: F401
from mmseg_fcn_classic.evaluation.metrics import FCNMetric
from mmseg_fcn_classic.models.utils import fcn_spec
from mmseg_fcn_classic.testing.synthetic import (VOC_VAL, make_demo_dataset,
                                                 make_mmseg_context_tree,
                                                 make_nyud_tree,
                                                 make_pascal_context_tree,
                                                 make_siftflow_tree,
                                                 make_voc_sbd_tree)
from tests.conftest import logged, shown_warnings

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*.py')))

REFERENCE = {  # config -> (skips, at_once, lr, max_iters)
    'fcn32s_vgg16_voc.py': ((), False, 1e-10, 100000),
    'fcn16s_vgg16_voc.py': (('pool4', ), False, 1e-12, 100000),
    'fcn8s_vgg16_voc.py': (('pool4', 'pool3'), False, 1e-14, 100000),
    'fcn8s_atonce_vgg16_voc.py': (('pool4', 'pool3'), True, 1e-10, 300000),
}


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    polyps = make_demo_dataset(str(root / 'polyps'), counts=dict(train=2, valid=1, test=1),
                               size_range=(40, 48))
    voc = str(root / 'voc_sbd')
    make_voc_sbd_tree(voc)
    # the FCN paper's val list (its ids of this tree), so no split falls back
    (root / 'voc_sbd' / 'seg11valid.txt').write_text('\n'.join(VOC_VAL) + '\n')
    mmseg_voc = _make_mmseg_voc_aug_tree(root / 'mmseg_voc')
    siftflow = str(root / 'sift-flow')
    make_siftflow_tree(siftflow, trainval=('coast_a1', 'street_b2'), test=('forest_c3', ))
    context = make_pascal_context_tree(str(root / 'pascal_context'))
    mmseg_context = make_mmseg_context_tree(
        str(root / 'mmseg_context'),
        {i: np.random.default_rng(0).integers(0, 60, size) for i, size in
         context['sizes'].items()}, context['train'], context['val'])
    nyud = str(root / 'nyud')
    make_nyud_tree(nyud)
    return dict(polyps=polyps, voc=voc, mmseg_voc=mmseg_voc, siftflow=siftflow,
                context=context['context_root'], mmseg_context=mmseg_context,
                nyud=nyud)


def _make_mmseg_voc_aug_tree(root):
    """mmseg's pascal_voc12_aug layout: VOC2012 + SegmentationClassAug + aug.txt."""
    import numpy as np
    from PIL import Image
    ids = ['2007_000032', '2007_000033']
    sets = root / 'ImageSets' / 'Segmentation'
    for sub in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug'):
        (root / sub).mkdir(parents=True)
    sets.mkdir(parents=True)
    for i in ids:
        Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(root / 'JPEGImages' / f'{i}.jpg')
        for sub in ('SegmentationClass', 'SegmentationClassAug'):
            Image.fromarray(np.zeros((20, 24), np.uint8)).save(root / sub / f'{i}.png')
    for name in ('train.txt', 'val.txt', 'aug.txt'):
        (sets / name).write_text('\n'.join(ids) + '\n')
    return str(root)


def _data_root(cfg_name, trees):
    if 'mmseg-aug' in cfg_name:
        return trees['mmseg_voc']
    if 'pascal-context' in cfg_name:
        return trees['mmseg_context' if '_mmseg' in cfg_name else 'context']
    if 'polyps' in cfg_name or 'demo' in cfg_name:
        return trees['polyps']
    if 'siftflow' in cfg_name:
        return trees['siftflow']
    if 'nyud' in cfg_name:
        return trees['nyud']
    return trees['voc']


def test_all_configs_listed():
    names = {osp.basename(c) for c in CONFIGS}
    assert {'fcn32s_vgg16_voc.py', 'fcn16s_vgg16_voc.py', 'fcn8s_vgg16_voc.py',
            'fcn8s_atonce_vgg16_voc.py', 'fcn8s_vgg16_polyps912.py',
            'fcn8s_vgg16_demo.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path, trees):
    """The model at its real widths and the datasets as configured; the test
    pipeline's sample goes through the model, on the meta device: shapes only,
    the narrow Runner test below computes values."""
    cfg = Config.fromfile(path)
    init_default_scope('mmseg')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    root = _data_root(osp.basename(path), trees)
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds_cfg = cfg[split].dataset.copy()
        if 'mmseg-aug' in path:  # mmseg's ConcatDataset of VOC + aug
            for sub in ds_cfg.get('datasets', [ds_cfg]):
                sub.data_root = root
        else:
            ds_cfg.data_root = root
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) > 0
        sample = dataset[0]
        assert sample['inputs'].ndim == 3
    # the test pipeline's sample goes through the model at its own size
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    data = preprocessor(dict(inputs=[sample['inputs']],
                             data_samples=[sample['data_samples']]))
    model.eval()
    with torch.no_grad():
        pred = model.predict(data['inputs'].to('meta'), data['data_samples'])[0]
    assert pred.pred_sem_seg.data.shape[-2:] == sample['data_samples'].ori_shape


NARROW = dict(widths=(4, 8, 8, 16, 16), fc_channels=16)
#: torch's warning for a loader with pin_memory=True on a machine without an
#: accelerator (once per loader iterator).
PIN_MEMORY_WITHOUT_ACCELERATOR = "'pin_memory' argument is set as true but no accelerator"
#: The configs that mix in mmseg's own parts warn as mmseg's own configs do: its
#: FCNHead (its BaseDecodeHead builds the loss with its deprecated build_loss) and
#: its cross-entropy recipe (the mean over all pixels, avg_non_ignore=False).
MMSEG_PARTS_WARNINGS = {
    'fcn_head_vgg16_voc.py': ('``build_loss`` would be deprecated',
                              'Default ``avg_non_ignore`` is False'),
    'fcn8s_vgg16_voc_mmseg-aug.py': ('Default ``avg_non_ignore`` is False', ),
}


def narrow_options(cfg: Config, data_root: str, work_dir: str) -> dict:
    """``--cfg-options`` that shrink a shipped config to a two-iteration run of a
    narrow model on a fixture tree."""
    options = {
        'work_dir': work_dir,
        'load_from': None,  # stage:// would need the previous stage's run
        'model.backbone.widths': NARROW['widths'],
        'model.backbone.fc_channels': NARROW['fc_channels'],
        'model.backbone.init_cfg': None,  # no ImageNet weights in the tests
        'train_cfg.max_iters': 2,
        'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
        'randomness': dict(seed=0),
    }
    head = cfg.model.decode_head
    if cfg.model.type == 'MultiHeadEncoderDecoder':  # decode_head: heads by name
        for name, sub in head.items():
            inputs = fcn_spec.head_inputs(sub.get('skips', fcn_spec.SKIPS), **NARROW)
            options.update({f'model.decode_head.{name}.{k}': v
                            for k, v in inputs.items()})
    elif cfg.model.backbone.type == 'AlexNetFC':  # fc7 only, the same narrow widths
        options.update({'model.decode_head.in_channels': NARROW['fc_channels'],
                        'model.decode_head.in_index': 0})
    elif head.type in ('ClassicFCNHead', 'LateFusionFCNHead'):
        inputs = fcn_spec.head_inputs(head.get('skips', fcn_spec.SKIPS), **NARROW)
        options.update({f'model.decode_head.{k}': v for k, v in inputs.items()})
        if head.get('init_cfg'):  # e.g. the late-fusion head's stage:// scores
            options['model.decode_head.init_cfg'] = None
    else:  # mmseg's FCNHead on fc7
        options.update({'model.decode_head.in_channels': NARROW['fc_channels'],
                        'model.decode_head.channels': 8})
    if cfg.model.data_preprocessor.get('size'):  # mmseg's 512 crops: smaller
        options['model.data_preprocessor.size'] = (64, 64)
    for split in ('train', 'val', 'test'):
        loader = f'{split}_dataloader'
        options.update({f'{loader}.num_workers': 0,
                        f'{loader}.persistent_workers': False})
        dataset = cfg[loader].dataset
        if 'datasets' in dataset:  # mmseg's ConcatDataset of VOC + aug
            options[f'{loader}.dataset.datasets'] = [
                dict(sub, data_root=data_root) for sub in dataset.datasets]
        else:
            options[f'{loader}.dataset.data_root'] = data_root
    options['train_dataloader.batch_size'] = 2
    return options


def shrink_mmseg_pipelines(cfg: Config) -> None:
    """mmseg's PASCAL-Context training pipeline (resize to 520, crops of 480) at a
    fixture's scale: resize to 64, crops of 48."""
    dataset = cfg.train_dataloader.dataset
    if dataset.get('type') != 'PascalContextDataset':
        return
    for t in dataset.pipeline:
        if t['type'] == 'RandomResize':
            t['scale'] = (64, 64)
        elif t['type'] == 'RandomCrop':
            t['crop_size'] = (48, 48)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_runs_in_runner(path, trees, tmp_path, visualizer_name):
    """Model, datasets, evaluators, visualizer and hooks as the Runner builds them;
    two training iterations, validation and test."""
    cfg = Config.fromfile(path)
    root = _data_root(osp.basename(path), trees)
    cfg.merge_from_dict(narrow_options(cfg, root, str(tmp_path / 'work')))
    cfg.visualizer.name = visualizer_name
    if 'mmseg-aug' in path:  # mmseg's 512 crops and pads would dwarf the fixtures
        for sub in cfg.train_dataloader.dataset.datasets:
            for t in sub.pipeline:
                if t['type'] == 'RandomCrop':
                    t['crop_size'] = (64, 64)
                elif t['type'] == 'Pad':
                    t['size'] = (64, 64)
    shrink_mmseg_pipelines(cfg)
    with shown_warnings() as caught:
        runner = Runner.from_cfg(cfg)
        with logged(runner.logger) as log:
            runner.train()
            metrics = runner.test()
    # nothing to warn about (tests/test_tools/test_quiet_runs.py lists the
    # upstream warnings the plugin drops at their source), but torch's note, on a
    # machine without an accelerator, that the loaders' pin_memory=True (for GPUs)
    # does nothing there
    expected = MMSEG_PARTS_WARNINGS.get(osp.basename(path), ())
    if not torch.accelerator.is_available():
        expected += (PIN_MEMORY_WITHOUT_ACCELERATOR, )
    shown = [str(w.message) for w in caught]
    assert [m for m in shown if not m.startswith(expected)] == []
    assert log.messages(logging.WARNING) == []
    hooks = {type(h).__name__ for h in runner.hooks}
    assert {'AtomicCheckpointHook', 'LoggerHook', 'FCNSegVisualizationHook',
            'ExactResumeHook'} <= hooks
    from mmseg_fcn_classic.visualization import FCNSegLocalVisualizer
    assert isinstance(runner.visualizer, FCNSegLocalVisualizer)  # or a subclass
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
    assert 'val/mIoU' in runner.message_hub.log_scalars
    assert isinstance(runner.val_evaluator.metrics[0], FCNMetric)
    assert isinstance(runner.test_evaluator.metrics[0], FCNMetric)
    assert 0 <= metrics['mIoU'] <= 100
    # `tools/test.py --tta`: the config's tta_model over its tta_pipeline
    tta = MODELS.build(dict(cfg.tta_model, module=runner.model))
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=cfg.tta_pipeline))
    sample = dataset[0]
    assert len(sample['inputs']) == 12  # 6 scales x (plain, flipped)
    pred = tta.test_step(pseudo_collate([sample]))[0]
    assert pred.pred_sem_seg.shape == sample['data_samples'][0].ori_shape
    if cfg.model.type == 'MultiHeadEncoderDecoder':  # SIFT Flow: every head
        assert pred.pred_geo_seg.shape == sample['data_samples'][0].ori_shape
        assert 0 <= metrics['geo.aAcc'] <= 100
        assert {'train/decode.sem.loss_ce', 'train/decode.geo.loss_ce'} <= set(
            runner.message_hub.log_scalars)


@pytest.mark.parametrize('name', sorted(REFERENCE))
def test_voc_configs_follow_reference_solver(name):
    skips, at_once, lr, iters = REFERENCE[name]
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    head = cfg.model.decode_head
    assert tuple(head.get('skips', fcn_spec.SKIPS)) == skips
    assert head.get('at_once', False) == at_once
    assert cfg.optim_wrapper.optimizer.lr == lr
    assert cfg.optim_wrapper.optimizer.momentum == 0.99
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.optim_wrapper.paramwise_cfg == dict(bias_lr_mult=2.0, bias_decay_mult=0.0)
    assert cfg.train_cfg.max_iters == iters and cfg.train_cfg.val_interval == 4000
    assert cfg.default_hooks.checkpoint.interval == 4000
    assert head.loss_decode.reduction == 'sum'
    assert not head.get('learn_upsampling', False)
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.train_dataloader.dataset.split == 'sbd_train'
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline] == [
        'LoadImageFromFile', 'LoadFCNAnnotations', 'PackSegInputs']
    assert cfg.model.data_preprocessor.weights == 'caffe'
    expected_load = {'fcn16s_vgg16_voc.py': 'stage://work_dirs/fcn32s_vgg16_voc',
                     'fcn8s_vgg16_voc.py': 'stage://work_dirs/fcn16s_vgg16_voc'}
    assert cfg.load_from == expected_load.get(name)


SIFTFLOW = {  # config -> (skips, lr, load_from): siftflow-fcn*/solver.prototxt
    'fcn32s_vgg16_siftflow.py': ((), 1e-10, None),
    'fcn16s_vgg16_siftflow.py': (('pool4', ), 1e-12,
                                 'stage://work_dirs/fcn32s_vgg16_siftflow'),
    'fcn8s_vgg16_siftflow.py': (('pool4', 'pool3'), 1e-12,
                                'stage://work_dirs/fcn16s_vgg16_siftflow'),
}


@pytest.mark.parametrize('name', sorted(SIFTFLOW))
def test_siftflow_configs_follow_reference_solver(name):
    skips, lr, load_from = SIFTFLOW[name]
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    model = cfg.model
    assert model.type == 'MultiHeadEncoderDecoder'
    assert list(model.decode_head) == ['sem', 'geo']
    for head, classes in (('sem', 33), ('geo', 3)):
        sub = model.decode_head[head]
        assert sub.num_classes == classes
        assert tuple(sub.get('skips', fcn_spec.SKIPS)) == skips
        assert sub.loss_decode == dict(type='CrossEntropyLoss', reduction='sum')
        assert not sub.get('learn_upsampling', False)  # equal weights: loss_weight 1
    assert model.data_preprocessor.mean == (114.578, 115.294, 108.353)
    assert model.data_preprocessor.weights == 'caffe'
    assert (model.backbone.init_cfg is None) == (load_from is not None)
    assert cfg.load_from == load_from
    opt = cfg.optim_wrapper
    assert (opt.optimizer.lr, opt.optimizer.momentum, opt.optimizer.weight_decay) == (
        lr, 0.99, 5e-4)
    assert opt.paramwise_cfg == dict(bias_lr_mult=2.0, bias_decay_mult=0.0)
    assert cfg.param_scheduler == []  # lr_policy fixed
    assert cfg.train_cfg.max_iters == 300000 and cfg.train_cfg.val_interval == 2000
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.train_dataloader.dataset.split == 'trainval'
    assert cfg.test_dataloader.dataset.split == 'test'
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline] == [
        'LoadImageFromFile', 'LoadFCNAnnotations', 'LoadHeadAnnotations',
        'PackMultiLabelSegInputs']
    assert cfg.test_evaluator == dict(type='MultiHeadFCNMetric', heads=dict(geo=('aAcc', )),
                                      present_classes_only=True)
    assert cfg.tta_model.type == 'MultiHeadSegTTAModel'
    assert cfg.visualizer.type == 'MultiHeadSegLocalVisualizer'


def test_metafile_siftflow_entries():
    """The released caffemodel of each net (its caffemodel-url) and, for FCN-16s,
    Table 5 of the CVPR paper, as the config's comment states it."""
    import re

    from mmengine.fileio import load
    models = {m['Name']: m for m in load(osp.join(REPO, 'configs', 'metafile.yaml'))['Models']}
    for name in SIFTFLOW:
        model = models[name[:-3]]
        net = f"siftflow-{name.split('_')[0]}"
        url = f'http://dl.caffe.berkeleyvision.org/{net}-heavy.caffemodel'
        assert model['Converted From']['Weights'] == model['Weights'] == url
        assert model['Alias'] == [net]
        (source, ) = model['Released Weights']
        assert (source['URL'], source['Format'], source['md5']) == (url, 'caffe', None)
        assert source['Source'].endswith(f'/{net}/caffemodel-url')
    text = open(osp.join(REPO, 'configs', 'fcn16s_vgg16_siftflow.py')).read()
    found = re.search(r'Table 5 of the CVPR paper\): pixel acc\. ([\d.]+), mean acc\. '
                      r'([\d.]+),\s*#\s*mean IU ([\d.]+), f\.w\. IU ([\d.]+), '
                      r'geometric acc\. ([\d.]+)', text)
    metrics = models['fcn16s_vgg16_siftflow']['Results']['Metrics']
    assert [metrics[k] for k in ('aAcc', 'mAcc', 'mIoU', 'fwIoU', 'geo.aAcc')] == [
        float(v) for v in found.groups()] == [85.2, 51.7, 39.5, 76.1, 94.3]
    assert 'Results' not in models['fcn32s_vgg16_siftflow']  # not in the paper
    assert 'Results' not in models['fcn8s_vgg16_siftflow']


def test_polyps_config_follows_tutorial():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fcn8s_vgg16_polyps912.py'))
    assert cfg.train_dataloader.batch_size == 10
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert 'RandomCrop' in types and 'RandomFlip' in types
    crop = next(t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'RandomCrop')
    assert tuple(crop['crop_size']) == (224, 224)
    assert cfg.val_dataloader.batch_size == cfg.test_dataloader.batch_size == 1
    assert cfg.test_dataloader.dataset.split == 'test'
    assert cfg.val_evaluator.type == 'FCNMetric'
    assert cfg.model.decode_head.num_classes == 2


def test_metafile_lists_every_config():
    """model-index.yml -> configs/metafile.yaml names every shipped config once, in
    the form mmengine and MMSegInferencer read; VOC nets list their released weights."""
    import re

    from mmengine.fileio import load
    index = load(osp.join(REPO, 'model-index.yml'))
    assert index['Import'] == ['configs/metafile.yaml']
    models = load(osp.join(REPO, index['Import'][0]))['Models']
    listed = [m['Config'] for m in models]
    assert sorted(listed) == sorted(osp.relpath(c, REPO) for c in CONFIGS)
    for model in models:
        assert osp.isfile(osp.join(REPO, model['Config']))
        assert model['Name'] == osp.basename(model['Config'])[:-3]
        # a list: mmengine's list_models extends a list with it (a string would
        # give its characters)
        assert isinstance(model.get('Alias', []), list), model['Name']
        assert 'Weights' in model  # BaseInferencer reads it; nothing is hosted
        sources = model.get('Released Weights', [])
        for source in sources:
            assert re.fullmatch(r'https?://\S+', source['URL'])
            assert source['md5'] is None or re.fullmatch(r'[0-9a-f]{32}', source['md5'])
        if model['Name'] in ('fcn32s_vgg16_voc', 'fcn16s_vgg16_voc', 'fcn8s_vgg16_voc',
                             'fcn8s_atonce_vgg16_voc'):
            assert {s['Format'] for s in sources} == {'caffe', 'pytorch-fcn'}
            assert model['Converted From']['Weights'].endswith('.caffemodel')
            results = model['Results']
            results = results[0] if isinstance(results, list) else results
            text = open(osp.join(REPO, model['Config'])).read()
            reference = re.search(r'Reference result \(mean IU, seg11valid\): ([\d.]+)',
                                  text)
            assert results['Metrics']['mIoU'] == float(reference.group(1))


def test_configs_ship_with_package(tmp_path):
    """A user's config elsewhere inherits ours through the installed package."""
    from mmseg_fcn_classic.utils.config import config_path
    user = tmp_path / 'my_fcn.py'
    user.write_text(
        "_base_ = ['mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py',\n"
        "          'mmseg_fcn_classic::_base_/schedules/fcn_voc_100k.py']\n"
        "model = dict(decode_head=dict(num_classes=5))\n")
    cfg = Config.fromfile(str(user))
    assert cfg.model.backbone.type == 'VGG16FC'
    assert cfg.model.decode_head.num_classes == 5
    assert cfg.optim_wrapper.optimizer.momentum == 0.99
    init_default_scope('mmseg')
    assert MODELS.build(cfg.model).decode_head.num_classes == 5
    shipped = config_path('fcn8s_vgg16_voc.py')
    assert Config.fromfile(shipped).optim_wrapper.optimizer.lr == 1e-14
    with pytest.raises(FileNotFoundError, match='nope.py'):
        config_path('nope.py')


CONTEXT_REFERENCE = {  # config -> (skips, lr, load_from)
    'fcn32s_vgg16_pascal-context.py': ((), 1e-10, None),
    'fcn16s_vgg16_pascal-context.py': (
        ('pool4', ), 1e-12, 'stage://work_dirs/fcn32s_vgg16_pascal-context'),
    'fcn8s_vgg16_pascal-context.py': (
        ('pool4', 'pool3'), 1e-14, 'stage://work_dirs/fcn16s_vgg16_pascal-context'),
}


@pytest.mark.parametrize('name', sorted(CONTEXT_REFERENCE))
def test_pascal_context_configs_follow_reference_solver(name):
    """pascalcontext-fcn*/solver.prototxt and solve.py; 60 outputs; staged."""
    skips, lr, load_from = CONTEXT_REFERENCE[name]
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    head = cfg.model.decode_head
    assert tuple(head.get('skips', fcn_spec.SKIPS)) == skips
    assert head.num_classes == 60 and head.loss_decode.reduction == 'sum'
    assert not head.get('at_once', False) and not head.get('learn_upsampling', False)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.lr, optimizer.momentum, optimizer.weight_decay) == (lr, 0.99, 5e-4)
    assert cfg.optim_wrapper.paramwise_cfg == dict(bias_lr_mult=2.0, bias_decay_mult=0.0)
    assert cfg.train_cfg.max_iters == 300000 and cfg.train_cfg.val_interval == 8000
    assert cfg.default_hooks.checkpoint.interval == 4000  # snapshot: 4000
    assert cfg.load_from == load_from
    assert (cfg.model.backbone.init_cfg is None) == (load_from is not None)
    assert cfg.train_dataloader.batch_size == 1
    train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    assert train.type == val.type == 'PascalContextFCNDataset'
    assert (train.split, val.split) == ('train', 'val')
    assert not train.get('ignore_background', False)
    assert [t['type'] for t in train.pipeline] == [
        'LoadImageFromFile', 'LoadFCNAnnotations', 'PackSegInputs']
    assert cfg.model.data_preprocessor.weights == 'caffe'


def test_pascal_context_mmseg_config():
    """mmseg's dataset base and classes; whole-image evaluation; the converted
    weights as load_from."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fcn8s_vgg16_pascal-context_mmseg.py'))
    text = open(osp.join(REPO, 'configs', 'fcn8s_vgg16_pascal-context_mmseg.py')).read()
    assert "'mmseg::_base_/datasets/pascal_context.py'" in text
    assert cfg.train_dataloader.dataset.type == 'PascalContextDataset'
    assert cfg.model.decode_head.num_classes == 60
    assert tuple(cfg.model.decode_head.get('skips', fcn_spec.SKIPS)) == fcn_spec.SKIPS
    assert cfg.optim_wrapper.optimizer.lr == 1e-14
    assert cfg.load_from == 'checkpoints/fcn8s_pascal-context_mmseg.pth'
    assert [t['type'] for t in cfg.test_dataloader.dataset.pipeline] == [
        'LoadImageFromFile', 'LoadAnnotations', 'PackSegInputs']
    assert cfg.test_evaluator == dict(type='FCNMetric')


def test_alexnet_config_follows_reference_solver():
    """voc-fcn-alexnet: lr 1e-4, momentum 0.9, normalised loss, iter_size 20,
    100k updates; trunk biases at Caffe's defaults, score_fr's at 2x without decay."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fcn32s_alexnet_voc.py'))
    head = cfg.model.decode_head
    assert cfg.model.backbone.type == 'AlexNetFC'
    assert cfg.model.backbone.init_cfg.checkpoint == 'checkpoints/alexnet_caffe.pth'
    assert head.skips == () and head.crop_offsets == 'alexnet_fc'
    assert head.loss_decode == dict(type='CrossEntropyLoss', reduction='mean',
                                    avg_non_ignore=True)
    assert cfg.optim_wrapper.accumulative_counts == 20
    assert cfg.train_cfg.max_iters == 100000 * 20
    assert cfg.train_cfg.val_interval == cfg.default_hooks.checkpoint.interval == 4000 * 20
    assert cfg.train_dataloader.dataset.split == 'sbd_train'
    assert cfg.val_dataloader.dataset.split == 'seg11valid'

    init_default_scope('mmseg')
    model = MODELS.build(dict(cfg.model, backbone=dict(cfg.model.backbone, init_cfg=None,
                                                       **NARROW),
                              decode_head=dict(head, in_channels=16)))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper._accumulative_counts == 20
    groups = {id(p): g for g in wrapper.optimizer.param_groups for p in g['params']}
    expected = {'backbone.conv1.weight': (1e-4, 5e-4), 'backbone.conv1.bias': (1e-4, 5e-4),
                'backbone.fc7.bias': (1e-4, 5e-4),
                'decode_head.score_fr.weight': (1e-4, 5e-4),
                'decode_head.score_fr.bias': (2e-4, 0.0)}
    params = dict(model.named_parameters())
    for name, (lr, decay) in expected.items():
        group = groups[id(params[name])]
        assert (group['lr'], group['weight_decay']) == pytest.approx((lr, decay)), name
    assert not params['decode_head.upscore.weight'].requires_grad  # frozen (lr_mult 0)


def test_new_configs_metafile_results_match_their_comments():
    import re

    from mmengine.fileio import load
    models = {m['Name']: m for m in load(osp.join(REPO, 'configs', 'metafile.yaml'))['Models']}
    for name in list(CONTEXT_REFERENCE) + ['fcn32s_alexnet_voc.py']:
        model = models[name[:-3]]
        text = open(osp.join(REPO, 'configs', name)).read()
        value = float(re.search(r'Reference result \(mean IU, [^)]*\): ([\d.]+)',
                                text).group(1))
        results = model['Results']
        results = results[0] if isinstance(results, list) else results
        assert results['Metrics']['mIoU'] == value, name
        assert model['Converted From']['Weights'] == model['Released Weights'][0]['URL']
    assert models['fcn32s_alexnet_voc']['Results'][1]['Metrics']['mIoU'] == 39.8
