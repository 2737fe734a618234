# NSRM LPM-G1&6 as an add-on to MMPose's own HRNetV2-w18 OneHand10K config:
# MMPose's protocol (annotation box x 1.25 crop, flip / rotation / scale
# augmentation, 256x256 input, 64x64 heatmaps, DARK-free MSRA heatmaps,
# 210 epochs), NOT the paper's. Only the head, the targets, the dataset
# checks and the lambda schedule change. Its plain-heatmap sibling is MMPose's
# config itself:
#   mmpose::hand_2d_keypoint/topdown_heatmap/onehand10k/
#       td-hm_hrnetv2-w18_8xb64-210e_onehand10k-256x256.py
# Cost at 256x256 (MMEngine's FlopAnalyzer): backbone 9.56 M parameters,
# 4.38 GFLOPs; this head 0.20 M, 0.83 GFLOPs.
# The backbone starts from MMPose's ImageNet HRNetV2-w18
# (open-mmlab://msra/hrnetv2_w18, downloaded once); offline, put the file
# where the error message says or train from scratch with
#   --cfg-options model.backbone.init_cfg=None
_base_ = [
    'mmpose::hand_2d_keypoint/topdown_heatmap/onehand10k/'
    'td-hm_hrnetv2-w18_8xb64-210e_onehand10k-256x256.py'
]

custom_imports = dict(imports=['projects.nsrm'], allow_failed_imports=False)

codec = _base_.codec
model = dict(
    head=dict(
        _delete_=True,  # MMPose's HeatmapHead arguments do not apply
        type='NSRMHead',
        in_channels=270,  # HRNetV2's FeatureMapProcessor concatenates 4 maps
        num_keypoints=21,
        groups='G1&6',
        # a light cascade (3x3 convs at 32 channels): at the paper's width
        # the head would cost ~20x this backbone
        feat_channels=32,
        adapter_channels=(),
        first_stage_channels=64,
        stage_channels=32,
        stage_kernel_size=3,
        num_stage_convs=2,
        loss=dict(type='NSRMLoss', lambda_g1=0.1, lambda_g6=0.02),
        decoder=codec))

dataset_type = 'NSRMOneHand10KDataset'  # MMPose's reader + annotation checks
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform', rotate_factor=180,
        scale_factor=(0.7, 1.3)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(
        type='LimbMaskTarget',
        input_size=codec['input_size'],
        heatmap_size=codec['heatmap_size'],
        mask_type='LPM',
        groups='G1&6',
        sigma=1.0),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    dataset=dict(type=dataset_type, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = val_dataloader

# lambdas x 0.1 every 50 of the 210 epochs (the paper: every 20 of 80)
custom_hooks = [dict(type='LambdaDecayHook', gamma=0.1, step=50)]
# crash-safe checkpoints, as in configs/_base_/default_runtime.py (the
# runner also adds MMPose's SyncBuffersHook, which custom_hooks replaced)
runner_type = 'CrashSafeRunner'
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
