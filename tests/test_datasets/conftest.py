import pytest
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True, scope='session')
def mmseg_scope():
    """Build transforms and datasets in mmseg's scope, with the plugin imported."""
    import mmseg_fcn_classic  # noqa: F401
    init_default_scope('mmseg')
