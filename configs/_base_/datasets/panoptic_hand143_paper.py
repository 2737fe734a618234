# CMU Panoptic hand (hand143_panopticdb) as the NSRM paper ran it (Sec. 4.2):
# a square crop of 2.2 x the longer side of the tight keypoint box (the
# converter's bbox, padded 2.2 by GetBBoxCenterScale; TopdownAffine makes it
# square) resized to 368x368, no augmentation, 46x46 heatmaps (sigma 1),
# integer-argmax decoding (NSRMHeatmap, refine='none'), Adam 1e-4, batch 32,
# 80 epochs, PCK at 0.04-0.12 of the longer side of the tight box around the
# labelled keypoints. Model selection by validation PCK-mean on the
# converter's seeded validation split (never on test).
# Data: tools/dataset_converters/panoptic_hand143_to_coco.py (README, "Data").
# Leaf configs join it with a model base and a variant base
# (../nsrm_variants/*.py) and build the train pipeline from
# `train_transforms` (+ the variant's `structure_target`).
_base_ = ['../default_runtime.py']

train_cfg = dict(by_epoch=True, max_epochs=80, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(checkpoint=dict(save_best='PCK-mean', rule='greater'))

codec = dict(
    type='NSRMHeatmap', input_size=(368, 368), heatmap_size=(46, 46),
    sigma=1, refine='none')

dataset_type = 'NSRMPanopticHandDataset'
dataset = dict(
    type=dataset_type,
    data_root='data/panoptic_hand143/',
    data_prefix=dict(img=''))

# MMPose's PackPoseInputs with a faster, bit-identical image copy
pack_inputs = dict(type='FastPackPoseInputs')

# the training transforms up to the keypoint targets; a config that adds
# targets writes [*_base_.train_transforms, <targets>, pack_inputs]
train_transforms = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=2.2),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
]
train_pipeline = [*train_transforms, pack_inputs]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=2.2),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    pack_inputs
]

# feeding a GPU: the batch of 32 decoded, warped and targeted in worker
# processes (benchmarks/targets_speed.py times the pipeline per sample),
# kept alive between epochs, in pinned memory for asynchronous copies
train_dataloader = dict(
    num_workers=8,
    pin_memory=True,
    persistent_workers=True,
    dataset=dict(
        **dataset,
        ann_file='annotations/panoptic_hand143_train.json',
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=4,
    pin_memory=True,
    persistent_workers=True,
    dataset=dict(
        **dataset,
        ann_file='annotations/panoptic_hand143_val.json',
        pipeline=val_pipeline))
test_dataloader = dict(
    num_workers=4,
    pin_memory=True,
    persistent_workers=True,
    dataset=dict(
        **dataset,
        ann_file='annotations/panoptic_hand143_test.json',
        pipeline=val_pipeline))

pck_thresholds = (0.04, 0.06, 0.08, 0.1, 0.12)
val_evaluator = [
    dict(
        type='MultiThresholdPCK', thresholds=pck_thresholds,
        norm='keypoint_bbox'),
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
