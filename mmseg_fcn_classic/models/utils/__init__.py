"""Pure helpers of the models: the variant table and the FCN geometry."""
from .fcn_spec import (VARIANTS, FCNVariant, LayerSpec, head_inputs, head_layers,
                       upscore_names, vgg_fc_layers)
from .geometry import (IDENTITY, CoordMap, bilinear_kernel, bilinear_upsample_weight,
                       center_crop, compose, conv_coord_map, crop, crop_offset,
                       deconv_coord_map, fcn_crop_offsets, reference_crop_offsets,
                       vgg_coord_maps)
from .heads import HeadFields, head_fields, head_meta, select_head

__all__ = [
    'VARIANTS', 'FCNVariant', 'LayerSpec', 'head_inputs', 'head_layers',
    'upscore_names', 'vgg_fc_layers', 'IDENTITY', 'CoordMap', 'bilinear_kernel',
    'bilinear_upsample_weight', 'center_crop', 'compose', 'conv_coord_map', 'crop',
    'crop_offset', 'deconv_coord_map', 'fcn_crop_offsets', 'reference_crop_offsets',
    'vgg_coord_maps', 'HeadFields', 'head_fields', 'head_meta', 'select_head'
]
