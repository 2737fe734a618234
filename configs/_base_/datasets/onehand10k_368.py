# OneHand10K with the paper's settings (Sec. 4.2): 368x368 inputs, 46x46
# heatmaps (sigma 1, MMPose's unbiased MSRAHeatmap), Adam with a constant
# learning rate of 1e-4, batch 32, 80 epochs, model selection by validation
# PCK. Leaf configs join it with a model base (../models/*.py), give the head
# `decoder=_base_.codec`, and build their own train pipeline from
# `train_transforms` when they add targets (e.g. LimbMaskTarget).
# Difference from the paper: MMPose's top-down crop (GT box x 1.25) instead
# of resizing the whole image.
# (Not named onehand10k.py: MMPose's OneHand10KDataset reads its metainfo
# from 'configs/_base_/datasets/onehand10k.py', relative to the working
# directory first, so a file of that name here would replace it.)
_base_ = ['../default_runtime.py']

train_cfg = dict(by_epoch=True, max_epochs=80, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
auto_scale_lr = dict(base_batch_size=32)

codec = dict(
    type='MSRAHeatmap', input_size=(368, 368), heatmap_size=(46, 46),
    sigma=1, unbiased=True)

dataset_type = 'NSRMOneHand10KDataset'
dataset = dict(
    type=dataset_type,
    data_root='data/onehand10k/',
    data_prefix=dict(img=''))

# the training transforms up to the keypoint targets; a config that adds
# targets writes [*_base_.train_transforms, <targets>, PackPoseInputs]
train_transforms = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform', rotate_factor=180,
        scale_factor=(0.7, 1.3)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
]
train_pipeline = [*train_transforms, dict(type='PackPoseInputs')]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    dataset=dict(
        **dataset,
        ann_file='annotations/onehand10k_train.json',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        **dataset,
        ann_file='annotations/onehand10k_test.json',
        pipeline=val_pipeline))
test_dataloader = val_dataloader
