# CMU Panoptic hand (hand143_panopticdb) with MMPose's top-down hand recipe,
# NOT the paper's protocol (that is ./panoptic_hand143_paper.py): the
# paper's crop, a square of 2.2 x the longer side of the tight keypoint box
# (the converter's bbox, padded 2.2 by GetBBoxCenterScale; TopdownAffine
# makes it square), then MMPose's OneHand10K augmentation (horizontal flip,
# rotation up to 180 degrees, scale 0.7-1.3), 256x256 input, 64x64 MSRA
# heatmaps (sigma 2), Adam 5e-4 with MMPose's warm-up and steps at 170 and
# 200 of 210 epochs, validation every 10 epochs. PCK at 0.04-0.12 of the
# longer side of the tight box around the labelled keypoints (the paper's)
# beside MMPose's metrics; the best checkpoint by validation PCK-mean on the
# converter's seeded validation split (never on test).
# Data: tools/dataset_converters/panoptic_hand143_to_coco.py (README, "Data").
# Leaf configs (configs/nsrm_addon/*_panoptic_256.py) join it with a model
# base and build the train pipeline from `train_transforms`.
_base_ = ['../default_runtime.py']

train_cfg = dict(by_epoch=True, max_epochs=210, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),  # warm-up
    dict(
        type='MultiStepLR',
        begin=0,
        end=210,
        milestones=[170, 200],
        gamma=0.1,
        by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(checkpoint=dict(save_best='PCK-mean', rule='greater'))

codec = dict(
    type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)

dataset_type = 'NSRMPanopticHandDataset'
dataset = dict(
    type=dataset_type,
    data_root='data/panoptic_hand143/',
    data_prefix=dict(img=''))

# the training transforms up to the keypoint targets; a config that adds
# targets writes [*_base_.train_transforms, <targets>, PackPoseInputs]
train_transforms = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=2.2),
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
    dict(type='GetBBoxCenterScale', padding=2.2),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    dataset=dict(
        **dataset,
        ann_file='annotations/panoptic_hand143_train.json',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        **dataset,
        ann_file='annotations/panoptic_hand143_val.json',
        pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(
        **dataset,
        ann_file='annotations/panoptic_hand143_test.json',
        pipeline=val_pipeline))

val_evaluator = [
    dict(
        type='MultiThresholdPCK', thresholds=(0.04, 0.06, 0.08, 0.1, 0.12),
        norm='keypoint_bbox'),
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
