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

# the generated data's labelling regime ('onehand10k': hidden keypoints
# unlabelled; 'panoptic': occluded keypoints labelled v = 1 at their true
# position) and occlusion level ('default' or 'hard'); the dataset checks
# that data_root/meta.json records them. Other settings live in their own
# folder (tools/generate_synthetic_hands.py names it): a leaf switches with
# synthetic_hands_panoptic_cpu.py or by overriding the three dataset fields
# of every dataloader (README.md, "Built-in synthetic hands").
labelling = 'onehand10k'
occlusion = 'default'
data_root = 'data/synthetic_hands/'

dataset_type = 'SyntheticHandDataset'
dataset = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(img='images/'),
    labelling=labelling,
    occlusion=occlusion)

# MMPose's PackPoseInputs with a faster, bit-identical image copy
pack_inputs = dict(type='FastPackPoseInputs')

# the training transforms up to the keypoint targets; a config that adds
# targets writes [*_base_.train_transforms, <targets>, pack_inputs]
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
train_pipeline = [*train_transforms, pack_inputs]
# the evaluation transforms up to the packing (a config that scores its
# structure targets writes [*_base_.val_transforms, <targets>, pack_inputs])
val_transforms = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
]
val_pipeline = [*val_transforms, pack_inputs]

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
