# NSRM LPM-G1&6 as an add-on to MMPose's HRNetV2-w18 on OneHand10K: its
# plain-heatmap sibling ./heatmap_hrnetv2_w18_onehand10k_256.py (MMPose's
# own config and protocol, NOT the paper's: box x 1.25 crop, flip / rotation
# / scale augmentation, 256x256 input, 64x64 heatmaps, 210 epochs) with only
# the head, the limb-mask target and the lambda schedule changed, so the two
# configs compare the heads and nothing else.
# A light cascade, 3 structure + 3 pose stages of two 3x3 convs at 32
# channels on 32-channel features: at the paper's width (NSRMHead's
# defaults: 512-wide adapter, five 7x7 convs of 128 per stage) the head
# would cost 24.9 M params and 102 GFLOPs, 23.5x this backbone's FLOPs.
# Cost of one (1, 3, 256, 256) forward (MMEngine's FlopAnalyzer, as MMPose's
# get_flops.py counts: 1 multiply-add = 1 FLOP; projects/nsrm/utils/
# model_cost.py):
#   backbone: 9.56 M params, 4.33 GFLOPs (HRNetV2-w18 + FeatureMapProcessor)
#   head: 0.20 M params, 0.83 GFLOPs (NSRMHead, light cascade)
# The backbone starts from MMPose's ImageNet HRNetV2-w18
# (open-mmlab://msra/hrnetv2_w18, downloaded once); to train from scratch:
#   --cfg-options model.backbone.init_cfg=None
_base_ = ['./heatmap_hrnetv2_w18_onehand10k_256.py']

model = dict(
    head=dict(
        _delete_=True,  # MMPose's HeatmapHead arguments do not apply
        type='NSRMHead',
        in_channels=270,  # HRNetV2's FeatureMapProcessor concatenates 4 maps
        num_keypoints=21,
        groups='G1&6',
        feat_channels=32,  # 270 -> 32: one 3x3 conv at 64x64
        adapter_channels=(),
        first_stage_channels=64,
        stage_channels=32,
        stage_kernel_size=3,
        num_stage_convs=2,
        loss=dict(type='NSRMLoss', lambda_g1=0.1, lambda_g6=0.02),
        decoder=_base_.codec))

# the limb masks as wide as the keypoint heatmaps (sigma 2 heatmap pixels),
# as in the paper (both 1 pixel of its 46x46 maps)
train_pipeline = [
    *_base_.train_transforms,
    dict(
        type='LimbMaskTarget',
        input_size=_base_.codec['input_size'],
        heatmap_size=_base_.codec['heatmap_size'],
        mask_type='LPM',
        groups='G1&6',
        sigma=_base_.codec['sigma']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# the paper decays the lambdas x0.1 every 20 of its 80 epochs (a quarter of
# the schedule; x1e-3 in the last quarter); here every 50 of the 210, a
# round number near a quarter: x1e-3 from epoch 150, before MMPose's
# learning-rate steps at 170 and 200 (x1e-4 for the last 10 epochs)
custom_hooks = [dict(type='LambdaDecayHook', gamma=0.1, step=50)]
