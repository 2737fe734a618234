# The light NSRM cascade every add-on puts on an MMPose backbone, LPM-G1&6:
# 3 structure + 3 pose stages of two 3x3 convs at 32 channels on 32-channel
# features (at the paper's width, NSRMHead's defaults, the head would cost
# 16-24x these backbones' FLOPs). The add-on configs inherit their heatmap
# sibling and this file and fill in what depends on the backbone and the
# codec:
#   model = dict(head=dict(_base_.nsrm_head, _delete_=True, in_channels=...,
#                          decoder=_base_.codec))
#   train pipeline: [*_base_.train_transforms, dict(_base_.limb_mask_target,
#       input_size=..., heatmap_size=..., sigma=...), PackPoseInputs]
#   custom_hooks = [_base_.lambda_decay]
# (variables only: `model` and `custom_hooks` are keys of the sibling, and
# MMEngine forbids a key in two bases)
nsrm_head = dict(
    type='NSRMHead',
    num_keypoints=21,
    groups='G1&6',
    feat_channels=32,
    adapter_channels=(),
    first_stage_channels=64,
    stage_channels=32,
    stage_kernel_size=3,
    num_stage_convs=2,
    loss=dict(type='NSRMLoss', lambda_g1=0.1, lambda_g6=0.02))

limb_mask_target = dict(type='LimbMaskTarget', mask_type='LPM', groups='G1&6')

# the paper decays the lambdas x0.1 every 20 of its 80 epochs (a quarter of
# the schedule; x1e-3 in the last quarter); here every 50 of MMPose's 210, a
# round number near a quarter: x1e-3 from epoch 150, before MMPose's
# learning-rate steps at 170 and 200 (x1e-4 for the last 10 epochs)
lambda_decay = dict(type='LambdaDecayHook', gamma=0.1, step=50)
