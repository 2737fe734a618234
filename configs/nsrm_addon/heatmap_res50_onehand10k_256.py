# MMPose's ResNet-50 heatmap baseline (SimpleBaseline) on OneHand10K: the
# plain-heatmap sibling of ./lpm_g1g6_res50_onehand10k_256.py, which changes
# only the head, the limb-mask target and the lambda schedule.
# MMPose's own config and protocol, NOT the paper's: annotation box x 1.25
# crop, flip / rotation (180) / scale (0.7-1.3) augmentation, 256x256 input,
# 64x64 MSRA heatmaps (sigma 2), flip test, Adam 5e-4 for 210 epochs,
# validation every 10 epochs on onehand10k_test.json (OneHand10K has no
# validation split: MMPose keeps the best checkpoint by AUC on the test
# file; compare two configs by the same rule, or by their last epoch).
# Added to MMPose's config: the project's dataset class (MMPose's reader +
# annotation checks), crash-safe checkpoints, and the paper's PCK at
# 0.10-0.30 of the tight keypoint box beside MMPose's metrics.
# Cost of one (1, 3, 256, 256) forward (MMEngine's FlopAnalyzer, as MMPose's
# get_flops.py counts: 1 multiply-add = 1 FLOP; projects/nsrm/utils/
# model_cost.py):
#   backbone: 23.51 M params, 5.37 GFLOPs (ResNet-50: stride 32, 2048 ch)
#   head: 10.49 M params, 1.90 GFLOPs (MMPose's HeatmapHead: 3 deconvs)
# The backbone starts from torchvision's ImageNet ResNet-50
# (torchvision://resnet50, downloaded once); to train from scratch:
#   --cfg-options model.backbone.init_cfg=None
_base_ = [
    'mmpose::hand_2d_keypoint/topdown_heatmap/onehand10k/'
    'td-hm_res50_8xb32-210e_onehand10k-256x256.py'
]

custom_imports = dict(imports=['projects.nsrm'], allow_failed_imports=False)
# checkpoints a kill cannot corrupt, the last two kept (as
# configs/_base_/default_runtime.py); the runner adds MMPose's
# SyncBuffersHook to the custom hooks
runner_type = 'CrashSafeRunner'
default_hooks = dict(
    checkpoint=dict(type='CrashSafeCheckpointHook', max_keep_ckpts=2))
custom_hooks = []

codec = _base_.codec
dataset_type = 'NSRMOneHand10KDataset'
# MMPose's train pipeline up to the targets; the NSRM add-on trains on
# [*train_transforms, LimbMaskTarget, PackPoseInputs]
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
train_dataloader = dict(
    dataset=dict(type=dataset_type, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = val_dataloader

val_evaluator = [
    dict(
        type='MultiThresholdPCK', thresholds=(0.1, 0.15, 0.2, 0.25, 0.3),
        norm='keypoint_bbox'),
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
