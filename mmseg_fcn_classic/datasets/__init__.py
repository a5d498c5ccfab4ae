"""Datasets read as distributed (EndoScene polyps, VOC2012 + SBD, PASCAL-Context)
and their label loader; importing registers them into mmseg's DATASETS and
TRANSFORMS."""
from .pascal_context import PascalContextFCNDataset
from .polyps912 import Polyps912Dataset
from .scan import ScanReport, scan_dataset
from .transforms import LoadFCNAnnotations, load_sbd_mat
from .validation import DatasetError, DatasetLayoutError, Problem, SampleError
from .voc_sbd import PascalVOCSBDDataset

__all__ = [
    'Polyps912Dataset', 'PascalVOCSBDDataset', 'PascalContextFCNDataset',
    'LoadFCNAnnotations', 'load_sbd_mat', 'scan_dataset', 'ScanReport', 'Problem', 'DatasetError',
    'DatasetLayoutError', 'SampleError'
]
