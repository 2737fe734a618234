# The built-in synthetic hands (tools/generate_synthetic_hands.py) at a
# CPU-sized resolution: codec, data, pipelines and a short schedule.
# Leaf configs join it with a model base (../models/*.py), give the head
# `decoder=_base_.codec`, and build their own train pipeline from
# `train_transforms` when they add targets (e.g. LimbMaskTarget).
_base_ = ['../default_runtime.py']

# runtime: a few minutes on 2 CPU cores
train_cfg = dict(by_epoch=True, max_epochs=12, val_interval=4)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[10],
         gamma=0.1)
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(logger=dict(interval=10))

# codec: keypoint heatmaps from MMPose's own MSRAHeatmap (unbiased). sigma 2
# on this 32x32 grid: with the paper's sigma 1 a from-scratch model needs far
# more than the few hundred iterations a CPU run affords to leave the all-zero
# plateau.
codec = dict(
    type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32),
    sigma=2, unbiased=True)

dataset_type = 'SyntheticHandDataset'
dataset = dict(
    type=dataset_type,
    data_root='data/synthetic_hands/',
    data_prefix=dict(img='images/'))

# the training transforms up to the keypoint targets; a config that adds
# targets writes [*_base_.train_transforms, <targets>, PackPoseInputs]
train_transforms = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform', rotate_factor=90,
        scale_factor=(0.8, 1.2)),
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
    batch_size=16,
    dataset=dict(
        **dataset,
        ann_file='annotations/synthetic_hands_train.json',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    dataset=dict(
        **dataset,
        ann_file='annotations/synthetic_hands_val.json',
        pipeline=val_pipeline))
test_dataloader = val_dataloader
