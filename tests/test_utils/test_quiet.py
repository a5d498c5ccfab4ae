"""utils/quiet.py: one message dropped, by its text, only while the block runs."""
import logging
import warnings

import pytest
from mmengine.logging import MMLogger, print_log

from mmseg_fcn_classic.utils.quiet import dropped_log_records, ignored_warnings
from tests.conftest import logged


def test_drops_only_matching_records_of_that_logger_while_the_block_runs():
    log = logging.getLogger('test_quiet.emitter')
    other = logging.getLogger('test_quiet.other')
    with logged(log) as seen, logged(other) as seen_other:
        with dropped_log_records('test_quiet.emitter', r'^noise \d$', 'also noise') as drop:
            log.warning('noise 1')
            log.warning('the noise 1 in a sentence')  # anchored: kept
            log.error('also noise, at another level')
            other.warning('noise 2')  # another logger: kept
        log.warning('noise 3')  # after the block: kept
    assert seen.messages() == ['the noise 1 in a sentence', 'noise 3']
    assert seen_other.messages() == ['noise 2']
    assert drop.dropped == ['noise 1', 'also noise, at another level']
    assert log.filters == []


def test_filter_is_removed_when_the_block_raises():
    log = logging.getLogger('test_quiet.raises')
    with pytest.raises(RuntimeError):
        with dropped_log_records(log, 'x'):
            raise RuntimeError
    assert log.filters == []


def test_none_means_mmengines_current_logger():
    current = MMLogger.get_current_instance()
    with logged(current) as seen:
        with dropped_log_records(None, '^dropped$'):
            print_log('dropped', logger='current', level=logging.WARNING)
            print_log('kept', logger='current', level=logging.WARNING)
    assert seen.messages() == ['kept']
    assert current.filters == []


def test_ignored_warnings_only_those_messages_and_category_inside():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with ignored_warnings(UserWarning, 'The draw is False', r'Failed to add .*'):
            warnings.warn('The draw is False, it means ...')
            warnings.warn('Failed to add <class X>, please ...')
            warnings.warn('The draw is False', FutureWarning)  # other category
            warnings.warn('The show is True, ...')  # other message
        warnings.warn('The draw is False, after the block')
    assert [(w.category, str(w.message)) for w in caught] == [
        (FutureWarning, 'The draw is False'), (UserWarning, 'The show is True, ...'),
        (UserWarning, 'The draw is False, after the block')]
