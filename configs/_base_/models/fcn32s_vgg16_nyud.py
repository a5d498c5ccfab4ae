# FCN-32s on VGG16 for NYUDv2 (fcn.berkeleyvision.org nyud-fcn32s-*/net.py): 40
# classes; the input is the stacked modalities of LoadMultiModalImageFromFiles, each
# minus its nyud_layers.py mean (colour BGR (116.190, 97.203, 92.318), HHA in file
# order (132.431, 94.076, 118.477), log depth 7.844), std 1.
_base_ = ['./fcn8s_vgg16.py']
model = dict(
    data_preprocessor=dict(
        _delete_=True, type='MultiModalDataPreProcessor', modalities=('color', ),
        size_divisor=1),  # pad a batch to its largest image only
    decode_head=dict(skips=(), num_classes=40))
