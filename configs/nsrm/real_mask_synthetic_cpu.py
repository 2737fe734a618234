# NSRM "Real Mask" (Table 2) on the built-in synthetic hands, sized like
# lpm_g1g6_synthetic_cpu.py (same backbone, cascade, data and schedule): the
# G1 structure branch is supervised by the hand's own segmentation (the
# annotation's COCO polygons, rasterised, flipped and warped with the image)
# instead of synthetic limb masks, with a constant lambda_g1 = 1.0 (no
# LambdaDecayHook; real_mask_pp_synthetic_cpu.py adds the paper's decay).
# Each structure-target cell is the fraction of the cell covered by the hand.
# On OneHand10K use LoadHandMask(source='mask_file'): its jsons'
# `segmentation` is only the bounding box, the masks are Train/mask/<n>.png.
_base_ = [
    '../_base_/datasets/synthetic_hands_cpu.py',
    '../_base_/models/nsrm_resnet_slim_cpu.py',
]

# the hand mask at image resolution (it follows the sample's flip itself)
load_hand_mask = dict(type='LoadHandMask', source='segmentation')
# warped with the image's matrix, reduced to the heatmap grid
hand_mask_target = dict(
    type='HandMaskTarget',
    input_size=_base_.codec['input_size'],
    heatmap_size=_base_.codec['heatmap_size'],
    groups='G1')

# one structure channel (G1), constant weight 1.0
model = dict(
    head=dict(
        groups=hand_mask_target['groups'],
        loss=dict(type='NSRMLoss', lambda_g1=1.0),
        decoder=_base_.codec))

train_pipeline = [
    *_base_.train_transforms, load_hand_mask, hand_mask_target,
    _base_.pack_inputs
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

custom_hooks = []
