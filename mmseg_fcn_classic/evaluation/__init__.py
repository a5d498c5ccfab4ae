"""Evaluation metrics; importing registers them into mmseg's METRICS."""
from .metrics import FCNMetric, confusion_matrix, fcn_scores

__all__ = ['FCNMetric', 'confusion_matrix', 'fcn_scores']
