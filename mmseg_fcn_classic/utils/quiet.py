"""Silence one upstream message, around the one call that emits it.

Some messages of mmengine, mmseg and torch are noise for our models: they warn
about something the user cannot change (a deprecation inside mmengine, a frozen
parameter that is frozen by design). We drop such a message only at its source in
our code: matched by its text, only while the call that emits it runs, only on
the logger that emits it. Nothing is filtered for the whole process: no warnings
filter, logger filter or log level outlives the ``with`` block, and every other
message of the same call still gets through. ``docs/plugin.md`` lists each use.
"""
import logging
import re
import warnings
from contextlib import contextmanager
from typing import Iterator, List, Optional, Type, Union


class DropRecords(logging.Filter):
    """A logging filter that drops the records whose message matches a pattern.

    Args:
        *patterns (str): Regular expressions, searched in ``record.getMessage()``.

    Attributes:
        dropped (list[str]): The messages dropped so far.
    """

    def __init__(self, *patterns: str) -> None:
        super().__init__()
        self.patterns = [re.compile(p) for p in patterns]
        self.dropped: List[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(p.search(message) for p in self.patterns):
            self.dropped.append(message)
            return False
        return True


@contextmanager
def dropped_log_records(logger: Optional[Union[logging.Logger, str]],
                        *patterns: str) -> Iterator[DropRecords]:
    """Drop the records of ``logger`` that match ``patterns`` while the block runs.

    Args:
        logger (logging.Logger | str | None): The logger that emits them, or its
            name. ``None``: mmengine's current ``MMLogger``, where
            ``print_log(..., logger='current')`` writes.
        *patterns (str): Regular expressions, searched in each record's message.

    Yields:
        DropRecords: The filter; its ``dropped`` lists what it dropped.

    Example:
        >>> log = logging.getLogger('doc.quiet')
        >>> with dropped_log_records(log, r'^frozen by design') as kept_out:
        ...     log.warning('frozen by design: upscore.weight')
        >>> kept_out.dropped, log.filters
        (['frozen by design: upscore.weight'], [])
    """
    if logger is None:
        from mmengine.logging import MMLogger
        logger = MMLogger.get_current_instance()
    elif isinstance(logger, str):
        logger = logging.getLogger(logger)
    drop = DropRecords(*patterns)
    logger.addFilter(drop)
    try:
        yield drop
    finally:
        logger.removeFilter(drop)


@contextmanager
def ignored_warnings(category: Type[Warning], *messages: str) -> Iterator[None]:
    """Ignore the warnings of ``category`` whose text starts with one of ``messages``
    (regular expressions, as ``warnings.filterwarnings`` takes them) while the
    block runs; the process's filters are restored after it.

    Example:
        >>> with ignored_warnings(UserWarning, 'The draw is False'):
        ...     warnings.warn('The draw is False, ...')
    """
    with warnings.catch_warnings():
        for message in messages:
            warnings.filterwarnings('ignore', message=message, category=category)
        yield
