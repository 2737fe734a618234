# The model of MMPose's ResNet-50 OneHand10K config
# (mmpose::hand_2d_keypoint/topdown_heatmap/onehand10k/
# td-hm_res50_8xb32-210e_onehand10k-256x256.py) as a model base, so that
# the Panoptic siblings can join it with a dataset base (MMEngine forbids a
# key in two bases, and MMPose's config holds its dataset too).
# Copied, not edited: tests/test_configs/test_addon_configs.py checks that it
# equals MMPose's `model`. Leaf configs add the head's `decoder`.
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='torchvision://resnet50',
        )),
    head=dict(
        type='HeatmapHead',
        in_channels=2048,
        out_channels=21,
        loss=dict(type='KeypointMSELoss', use_target_weight=True)),
    test_cfg=dict(
        flip_test=True,
        flip_mode='heatmap',
        shift_heatmap=True,
    ))
