from .backbones import *  # noqa: F401,F403
from .data_preprocessor import FCNDataPreProcessor  # noqa: F401
from .decode_heads import *  # noqa: F401,F403
