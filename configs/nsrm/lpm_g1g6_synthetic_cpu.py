# NSRM, LPM-G1&6, on the built-in synthetic hands, sized for a few minutes on
# 2 CPU cores (the main job): the baseline's slim ResNet (stride 8) and a
# narrower cascade (3 structure + 3 pose stages, 3 convs of 5x5 at 48
# channels instead of 5 x 7x7 at 128). The paper's full model:
# lpm_g1g6_onehand10k.py / lpm_g1g6_panoptic.py.
_base_ = [
    '../_base_/datasets/synthetic_hands_cpu.py',
    '../_base_/models/nsrm_resnet_slim_cpu.py',
]

# limb masks: LPM, G1&6, sigma_LPM = 1 heatmap pixel
limb_mask_target = dict(
    type='LimbMaskTarget',
    input_size=_base_.codec['input_size'],
    heatmap_size=_base_.codec['heatmap_size'],
    mask_type='LPM',
    groups='G1&6',
    sigma=1.0)

# the paper's LPM-G1&6 lambdas; the head passes its groups to the loss
# (output_heatmaps: the predictions carry the limb masks LimbMaskQuality
# scores)
model = dict(
    head=dict(
        groups=limb_mask_target['groups'],
        loss=dict(type='NSRMLoss', lambda_g1=0.1, lambda_g6=0.02),
        decoder=_base_.codec),
    test_cfg=dict(output_heatmaps=True))

train_pipeline = [
    *_base_.train_transforms, limb_mask_target,
    _base_.pack_inputs
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# validation also scores the structure branch: the predicted limb masks
# (sigmoid) against the same targets, as mean IoU at 0.5 and mean BCE
eval_pipeline = [
    *_base_.val_transforms, limb_mask_target,
    _base_.pack_inputs
]
val_dataloader = dict(dataset=dict(pipeline=eval_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    *_base_.val_evaluator,
    dict(type='LimbMaskQuality', groups=limb_mask_target['groups']),
]
test_evaluator = val_evaluator

# lambdas x 0.1 every 4 epochs: in this 12-epoch schedule they decay twice,
# at (0-based) epochs 4 and 8, i.e. x1, x0.1, x0.01 for 4 epochs each (the
# paper: x 0.1 every 20 of its 80 epochs)
custom_hooks = [dict(type='LambdaDecayHook', gamma=0.1, step=4)]
