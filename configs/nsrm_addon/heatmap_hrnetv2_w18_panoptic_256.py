# MMPose's HRNetV2-w18 heatmap baseline (the model of MMPose's OneHand10K
# config, exactly) on CMU Panoptic hand: the plain-heatmap sibling of
# ./lpm_g1g6_hrnetv2_w18_panoptic_256.py, which changes only the head, the
# limb-mask target and the lambda schedule.
# MMPose's top-down recipe, NOT the paper's protocol: the paper's 2.2 x
# tight-box crop with MMPose's flip / rotation / scale augmentation, 256x256
# input, 64x64 heatmaps, 210 epochs, best checkpoint by validation PCK-mean
# (../_base_/datasets/panoptic_hand143_256_crop_aug.py).
# Cost of one (1, 3, 256, 256) forward (MMEngine's FlopAnalyzer, as MMPose's
# get_flops.py counts: 1 multiply-add = 1 FLOP; projects/nsrm/utils/
# model_cost.py):
#   backbone: 9.56 M params, 4.33 GFLOPs (HRNetV2-w18 + FeatureMapProcessor)
#   head: 0.08 M params, 0.32 GFLOPs (MMPose's HeatmapHead: two 1x1 convs)
# The backbone starts from MMPose's ImageNet HRNetV2-w18
# (open-mmlab://msra/hrnetv2_w18, downloaded once); to train from scratch:
#   --cfg-options model.backbone.init_cfg=None
_base_ = [
    '../_base_/datasets/panoptic_hand143_256_crop_aug.py',
    './_base_/models/hrnetv2_w18_heatmap.py',
]

model = dict(head=dict(decoder=_base_.codec))
# the runner adds MMPose's SyncBuffersHook to the custom hooks
custom_hooks = []
# MMPose's HRNetV2-w18 hand configs train with 64 images per GPU
train_dataloader = dict(batch_size=64)
