"""Datasets read as distributed (EndoScene polyps, VOC2012 + SBD, SIFT Flow,
PASCAL-Context, NYUDv2) and their label and modality loaders; importing registers
them into mmseg's DATASETS and TRANSFORMS."""
from .head_annotations import LoadHeadAnnotations
from .modalities import LoadMultiModalImageFromFiles
from .nyud import NYUDv2Dataset
from .packing import PackMultiLabelSegInputs
from .pascal_context import PascalContextFCNDataset
from .polyps912 import Polyps912Dataset
from .scan import ScanReport, scan_dataset
from .siftflow import SiftFlowDataset
from .transforms import LoadFCNAnnotations, load_sbd_mat
from .validation import DatasetError, DatasetLayoutError, Problem, SampleError
from .voc_sbd import PascalVOCSBDDataset

__all__ = [
    'Polyps912Dataset', 'PascalVOCSBDDataset', 'LoadFCNAnnotations',
    'load_sbd_mat', 'scan_dataset', 'ScanReport', 'Problem', 'DatasetError',
    'DatasetLayoutError', 'SampleError', 'SiftFlowDataset', 'LoadHeadAnnotations',
    'PackMultiLabelSegInputs', 'PascalContextFCNDataset', 'NYUDv2Dataset',
    'LoadMultiModalImageFromFiles'
]
