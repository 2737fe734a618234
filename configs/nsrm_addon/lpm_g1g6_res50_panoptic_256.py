# NSRM LPM-G1&6 as an add-on to MMPose's ResNet-50 on CMU Panoptic hand: its
# plain-heatmap sibling ./heatmap_res50_panoptic_256.py (MMPose's top-down
# recipe, NOT the paper's protocol: the paper's 2.2 x tight-box crop with
# flip / rotation / scale augmentation, 256x256 input, 64x64 heatmaps, 210
# epochs) with only the head, the limb-mask target and the lambda schedule
# changed, so the two configs compare the heads and nothing else.
# The light cascade of ./_base_/nsrm_light_cascade.py: at the paper's width
# (NSRMHead's defaults: 512-wide adapter, five 7x7 convs of 128 per stage) the
# head would cost 33.1 M params and 86 GFLOPs, 16x this backbone's FLOPs.
# ResNet-50's stride-32 features (8x8) go through a 3x3 conv to 256
# channels and one to 32 (the FLOPs of the HRNet add-on's adapter), then
# are resized bilinearly to the 64x64 heatmaps.
# Cost of one (1, 3, 256, 256) forward (MMEngine's FlopAnalyzer, as MMPose's
# get_flops.py counts: 1 multiply-add = 1 FLOP; projects/nsrm/utils/
# model_cost.py):
#   backbone: 23.51 M params, 5.37 GFLOPs (ResNet-50: stride 32, 2048 ch)
#   head: 4.92 M params, 0.82 GFLOPs (NSRMHead, light cascade)
# The backbone starts from torchvision's ImageNet ResNet-50
# (torchvision://resnet50, downloaded once); to train from scratch:
#   --cfg-options model.backbone.init_cfg=None
_base_ = [
    './heatmap_res50_panoptic_256.py',
    './_base_/nsrm_light_cascade.py'
]

model = dict(
    head=dict(
        _base_.nsrm_head,
        _delete_=True,  # MMPose's HeatmapHead arguments do not apply
        in_channels=2048,  # ResNet-50's last stage, stride 32
        adapter_channels=(256, ),  # 2048 -> 256 -> 32: two 3x3 convs at 8x8
        decoder=_base_.codec))

# the limb masks as wide as the keypoint heatmaps (sigma 2 heatmap pixels),
# as in the paper (both 1 pixel of its 46x46 maps)
train_pipeline = [
    *_base_.train_transforms,
    dict(
        _base_.limb_mask_target,
        input_size=_base_.codec['input_size'],
        heatmap_size=_base_.codec['heatmap_size'],
        sigma=_base_.codec['sigma']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [_base_.lambda_decay]
