"""Publish a checkpoint: weights and meta only, named by its hash.

Same as ``python -m mmseg_fcn_classic.tools.publish`` or ``mmseg-fcn-publish``
(mmseg's publish_model.py fails under torch >= 2.6); ``--help`` lists the options.
"""
import sys

from mmseg_fcn_classic.tools.publish import main

if __name__ == '__main__':
    sys.exit(main())
