# The shared runtime for MultiHeadEncoderDecoder models: test-time augmentation of
# every head, and a visualizer that draws the primary head (e.g. the semantic
# labels) unless told another: --cfg-options visualizer.head=geo
_base_ = ['./default_runtime.py']
tta_model = dict(type='MultiHeadSegTTAModel')
visualizer = dict(type='MultiHeadSegLocalVisualizer', head=None)
