"""Malformed ``.caffemodel`` files: only ever ``CaffeFormatError``, in bounded time.

Random bytes, and real files (the narrow reference nets the other tests encode) with
bytes flipped, inserted, deleted, truncated or length fields rewritten, go through
the whole converter (:func:`convert_caffe` on a file). Each must convert or raise
:class:`CaffeFormatError` naming the file, within a second.
"""
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmseg_fcn_classic.converters.caffe import (CaffeFormatError, convert_caffe,
                                          parse_net_parameter)

from . import protobuf_encoder as pe
from .reference_nets import caffemodel_bytes, reference_arrays

SECONDS_PER_FILE = 1.0


def _seeds():
    """Real files in every layout the parser reads (small ones, for speed)."""
    narrow = dict(widths=(1, 1, 2, 2, 2), fc=2, num_classes=2)
    seeds = [caffemodel_bytes(reference_arrays(v, **narrow), v)
             for v in ('32s', '8s-atonce')]
    seeds.append(caffemodel_bytes(reference_arrays('vgg16', **narrow), 'vgg16', v1=True))
    seeds.append(pe.net([pe.layer('c', 'Convolution', [
        pe.blob(np.ones((2, 1, 1, 1), np.float32), legacy_dims=True, packed=False),
        pe.blob(np.ones(2), double=True, with_diff=True)])]))
    return seeds


SEEDS = _seeds()


@pytest.fixture(scope='module')
def model_file(tmp_path_factory):
    return tmp_path_factory.mktemp('fuzz') / 'fuzzed.caffemodel'


def _check(path, data: bytes) -> None:
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        convert_caffe(str(path))
    except CaffeFormatError as err:
        assert str(path) in str(err)
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS_PER_FILE, f'{elapsed:.2f} s for {len(data)} bytes'


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(('flip', 'insert', 'delete', 'truncate', 'varint')))
        pos = draw(st.integers(0, len(data)))
        if op == 'flip' and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == 'insert':
            data[pos:pos] = draw(st.binary(min_size=1, max_size=12))
        elif op == 'delete':
            del data[pos:pos + draw(st.integers(1, 12))]
        elif op == 'truncate':
            del data[pos:]
        elif op == 'varint':  # a huge or negative length / dimension
            data[pos:pos] = pe.varint(draw(st.sampled_from(
                (2**31, 2**63 - 1, -1, -2**40, 10**12))))
    return bytes(data)


FUZZ = settings(max_examples=1500, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@FUZZ
@given(data=st.binary(max_size=512))
def test_random_bytes(model_file, data):
    _check(model_file, data)


@FUZZ
@given(data=mutated())
def test_mutated_caffemodels(model_file, data):
    _check(model_file, data)


ADVERSARIAL = {
    # each raised something else (RecursionError, ValueError) or took seconds before
    'nested groups': pe.key(1, 3) * 200_000,
    'nested groups in a layer': pe.length_delimited(
        100, pe.string(1, 'x') + pe.key(9, 3) * 100_000),
    'many dims': pe.length_delimited(100, pe.length_delimited(7, pe.length_delimited(
        7, pe.length_delimited(1, pe.varint(2**62) * 100_000)))),
    'interleaved unpacked values': pe.length_delimited(100, pe.length_delimited(7, (
        pe.key(5, 5) + b'\0' * 4 + pe.int_field(99, 1)) * 20_000)),
    'negative dims': pe.length_delimited(100, pe.length_delimited(7, pe.blob(
        np.ones(6, np.float32), dims=(-2, -3)))),
}


@pytest.mark.parametrize('name', list(ADVERSARIAL))
def test_adversarial_inputs(model_file, name):
    """Crafted files: deep nesting, many or negative dims, quadratic scanning."""
    _check(model_file, ADVERSARIAL[name])


def test_nested_groups_name_the_problem(model_file):
    model_file.write_bytes(pe.key(1, 3) * 200_000)
    with pytest.raises(CaffeFormatError, match=r'fuzzed\.caffemodel.*nest'):
        convert_caffe(str(model_file))
    with pytest.raises(CaffeFormatError, match='nest'):
        parse_net_parameter(pe.key(1, 3) * 200_000)
