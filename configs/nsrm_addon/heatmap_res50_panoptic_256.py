# MMPose's ResNet-50 heatmap baseline (the model of MMPose's OneHand10K
# config, exactly) on CMU Panoptic hand: the plain-heatmap sibling of
# ./lpm_g1g6_res50_panoptic_256.py, which changes only the head, the
# limb-mask target and the lambda schedule.
# MMPose's top-down recipe, NOT the paper's protocol: the paper's 2.2 x
# tight-box crop with MMPose's flip / rotation / scale augmentation, 256x256
# input, 64x64 heatmaps, 210 epochs, best checkpoint by validation PCK-mean
# (../_base_/datasets/panoptic_hand143_256_crop_aug.py).
# Cost of one (1, 3, 256, 256) forward (MMEngine's FlopAnalyzer, as MMPose's
# get_flops.py counts: 1 multiply-add = 1 FLOP; projects/nsrm/utils/
# model_cost.py):
#   backbone: 23.51 M params, 5.37 GFLOPs (ResNet-50: stride 32, 2048 ch)
#   head: 10.49 M params, 1.90 GFLOPs (MMPose's HeatmapHead: 3 deconvs)
# The backbone starts from torchvision's ImageNet ResNet-50
# (torchvision://resnet50, downloaded once); to train from scratch:
#   --cfg-options model.backbone.init_cfg=None
_base_ = [
    '../_base_/datasets/panoptic_hand143_256_crop_aug.py',
    './_base_/models/res50_heatmap.py',
]

model = dict(head=dict(decoder=_base_.codec))
# the runner adds MMPose's SyncBuffersHook to the custom hooks
custom_hooks = []
# batch 32 per GPU (../_base_/default_runtime.py), as MMPose's ResNet-50
# hand configs
