"""Datasets read as distributed (EndoScene polyps, VOC2012 + SBD, NYUDv2) and their
label and modality loaders; importing registers them into mmseg's DATASETS and
TRANSFORMS."""
from .modalities import LoadMultiModalImageFromFiles
from .nyud import NYUDv2Dataset
from .polyps912 import Polyps912Dataset
from .scan import ScanReport, scan_dataset
from .transforms import LoadFCNAnnotations, load_sbd_mat
from .validation import DatasetError, DatasetLayoutError, Problem, SampleError
from .voc_sbd import PascalVOCSBDDataset

__all__ = [
    'Polyps912Dataset', 'PascalVOCSBDDataset', 'LoadFCNAnnotations',
    'load_sbd_mat', 'scan_dataset', 'ScanReport', 'Problem', 'DatasetError',
    'DatasetLayoutError', 'SampleError', 'NYUDv2Dataset', 'LoadMultiModalImageFromFiles'
]
