# OneHand10K as the NSRM paper ran it (Sec. 4.2): the WHOLE image resized to
# 368x368 (no hand crop, aspect ratio not kept), no augmentation, 46x46
# heatmaps (sigma 1; the targets of MMPose's unbiased MSRAHeatmap), decoding
# by the integer argmax of each map scaled back to the image (NSRMHeatmap,
# refine='none'; refine='dark' gives MMPose's DARK as an option), Adam with a
# constant learning rate of 1e-4, batch 32, 80 epochs, PCK at 0.10-0.30 of
# the longer side of the tight box around the labelled keypoints.
# Unlabelled keypoints ([0, 0, 0] in MMPose's jsons) get zero heatmaps and
# zero weight, and zero every limb they end.
# No checkpoint selection: OneHand10K has only a train and a test split, so
# there is no validation loop and the LAST epoch's checkpoint is tested
# (tools/test.py ... work_dirs/<cfg>/epoch_80.pth).
# Leaf configs join it with a model base and a variant base
# (../nsrm_variants/*.py) and build the train pipeline from
# `train_transforms` (+ the variant's `structure_target`).
# (Not named onehand10k.py: MMPose's OneHand10KDataset reads its metainfo
# from 'configs/_base_/datasets/onehand10k.py', relative to the working
# directory first, so a file of that name here would replace it.)
_base_ = ['../default_runtime.py']

train_cfg = dict(by_epoch=True, max_epochs=80)
val_cfg = None
val_dataloader = None
val_evaluator = None
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(checkpoint=dict(save_best=None, interval=1))

codec = dict(
    type='NSRMHeatmap', input_size=(368, 368), heatmap_size=(46, 46),
    sigma=1, refine='none')

dataset_type = 'NSRMOneHand10KDataset'
dataset = dict(
    type=dataset_type,
    data_root='data/onehand10k/',
    data_prefix=dict(img=''))

# MMPose's PackPoseInputs with a faster, bit-identical image copy
pack_inputs = dict(type='FastPackPoseInputs')

# the training transforms up to the keypoint targets; a config that adds
# targets writes [*_base_.train_transforms, <targets>, pack_inputs]
train_transforms = [
    dict(type='LoadImage'),
    dict(type='WholeImageResize', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
]
train_pipeline = [*train_transforms, pack_inputs]
test_pipeline = [
    dict(type='LoadImage'),
    dict(type='WholeImageResize', input_size=codec['input_size']),
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
        ann_file='annotations/onehand10k_train.json',
        pipeline=train_pipeline))
test_dataloader = dict(
    num_workers=4,
    pin_memory=True,
    persistent_workers=True,
    dataset=dict(
        **dataset,
        ann_file='annotations/onehand10k_test.json',
        pipeline=test_pipeline))

pck_thresholds = (0.1, 0.15, 0.2, 0.25, 0.3)
test_evaluator = [
    dict(
        type='MultiThresholdPCK', thresholds=pck_thresholds,
        norm='keypoint_bbox'),
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
]
