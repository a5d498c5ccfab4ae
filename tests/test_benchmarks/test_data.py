"""The data part of the benchmark: workers needed, the GPU rate from FLOPs, one
loader worker per pipeline, and the VOC writer of benchmarks/gpu_check.sh."""
import pytest

from benchmarks.data import (PIPELINES, add_gpu_rate, data_throughput,
                             gpu_images_per_s, main, set_data_root,
                             train_flops_per_image, workers_needed)


def test_workers_needed_is_the_rate_over_one_worker_with_headroom():
    assert workers_needed(450, 150) == 4  # 3.75 with the default 1.25 headroom
    assert workers_needed(450, 150, headroom=1.0) == 3
    assert workers_needed(451, 150, headroom=1.0) == 4
    assert workers_needed(0.3, 0.1, headroom=1.0) == 3  # not 4 from 3.0000000000000004
    assert workers_needed(10, 1000) == 1
    assert workers_needed(0, 100) == 0


@pytest.mark.parametrize('rate, per_worker, headroom', [
    (100, 0, 1.25), (100, -5, 1.25), (-1, 100, 1.25), (100, 100, 0.9)])
def test_workers_needed_refuses_nonsense(rate, per_worker, headroom):
    with pytest.raises(ValueError, match='workers_needed'):
        workers_needed(rate, per_worker, headroom)


def test_gpu_rate_is_the_issues_estimate_from_the_flop_count():
    # issue 12: ~879 GFLOP per 500x375 training step; half of 790 TFLOP/s -> ~450/s
    flops = train_flops_per_image(21, 375, 500)
    assert flops == pytest.approx(879.3e9, rel=1e-3)
    assert gpu_images_per_s(flops, 790e12) == pytest.approx(449.2, abs=0.1)
    assert gpu_images_per_s(flops, 790e12, fraction=1.0) == pytest.approx(898.4,
                                                                          abs=0.1)
    # a smaller image costs less: the padded area (h + 200)(w + 200) decides
    assert train_flops_per_image(2, 224, 224) < flops / 2
    with pytest.raises(ValueError):
        gpu_images_per_s(0, 790e12)


def test_add_gpu_rate_given_or_from_flops():
    def entry(gpu, shape=(3, 60, 80)):
        return dict(name='x', gpu=gpu, samples_per_s=100.0, samples_per_cpu_s=200.0,
                    num_workers=2, num_classes=21, sample_shape=list(shape))

    given = [entry(True), entry(False), dict(name='broken', gpu=True, error='e')]
    add_gpu_rate(given, 300, 790e12, 'stated', headroom=1.0)
    assert [e.get('workers_needed') for e in given] == [3, 3, None]
    # the config's 2 workers, each with a core to itself, deliver 400/s
    assert [e.get('workers_needed_own_core') for e in given] == [2, 2, None]
    assert [e.get('enough_workers') for e in given] == [True, True, None]
    assert given[0]['gpu_rate']['source'] == '--gpu-rate'

    derived = [entry(True), entry(False)]
    add_gpu_rate(derived, None, 790e12, 'stated')
    rate = gpu_images_per_s(train_flops_per_image(21, 60, 80), 790e12)
    assert derived[0]['gpu_rate']['images_per_s'] == pytest.approx(rate)
    assert derived[0]['workers_needed'] == workers_needed(rate, 100.0)
    assert derived[0]['workers_needed_own_core'] == workers_needed(rate, 200.0)
    assert 'stated' in derived[0]['gpu_rate']['source']
    assert 'gpu_rate' not in derived[1]  # the demo trains a narrow model on the CPU


def test_set_data_root_reaches_wrapped_datasets():
    cfg = dict(type='ConcatDataset', datasets=[
        dict(type='A', data_root='a'),
        dict(type='RepeatDataset', dataset=dict(type='B', data_root='b'))])
    set_data_root(cfg, '/data')
    assert cfg['datasets'][0]['data_root'] == '/data'
    assert cfg['datasets'][1]['dataset']['data_root'] == '/data'
    assert 'data_root' not in cfg and 'data_root' not in cfg['datasets'][1]


def test_one_worker_per_pipeline_and_failures_are_reported():
    demo = next(p for p in PIPELINES if p['config'] == 'fcn8s_vgg16_demo.py')
    broken = dict(demo, name='broken', config='no_such_config.py')
    bad, good = data_throughput(3, 1, pipelines=[broken, demo])
    assert bad['name'] == 'broken' and 'no_such_config.py' in bad['error']
    assert good['batch_size'] == 8 and good['samples'] == 8  # one whole batch
    assert good['num_workers'] == 1 and good['sample_shape'] == [3, 64, 64]
    assert good['samples_per_s'] > 0 and good['samples_per_cpu_s'] > 0
    assert good['ms_per_sample'] == pytest.approx(1e3 / good['samples_per_s'])
    # the worker's own CPU seconds for the timed batch, not the parent's
    assert 0 < good['cpu_seconds'] < 60


def test_voc_writer_for_a_short_training_run(tmp_path):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import mmseg_fcn_classic  # noqa: F401
    main([str(tmp_path), '--count', '3', '--val', '2', '--size', '30', '40'])
    init_default_scope('mmseg')
    datasets = {}
    for split, n in (('sbd_train', 3), ('train', 3), ('val', 2)):
        datasets[split] = DATASETS.build(dict(
            type='PascalVOCSBDDataset', data_root=str(tmp_path), split=split,
            pipeline=[]))
        assert len(datasets[split]) == n, split
    # the VOC configs' split reads SBD's .mat labels
    labels = [d['seg_map_path'] for d in datasets['sbd_train'].data_list]
    assert all(p.endswith('.mat') for p in labels)
