"""Evaluation metrics; importing registers them into mmseg's METRICS."""
from .metrics import FCNMetric, confusion_matrix, fcn_scores
from .multi_head_metric import MultiHeadFCNMetric, present_class_scores

__all__ = [
    'FCNMetric', 'MultiHeadFCNMetric', 'confusion_matrix', 'fcn_scores',
    'present_class_scores'
]
