# NSRM LPM-G1 on OneHand10K, the paper's model (Fig. 5): VGG-19 up to
# conv4_4 (ImageNet weights), three 3x3 convs to 128 channels (the head's
# adapter), 3 structure + 3 pose stages of five 7x7 convs, lambda_1 = 0.5
# decayed x0.1 every 20 epochs.
#
# ImageNet weights: convert torchvision's vgg19 file once with
#   python tools/convert_vgg_weights.py vgg19-dcbb9e9d.pth \
#       checkpoints/vgg19_imagenet_mmpose.pth
# or train from scratch with --cfg-options model.backbone.init_cfg=None
_base_ = [
    '../_base_/datasets/onehand10k_368.py',
    '../_base_/models/nsrm_vgg19.py',
]

# limb masks: LPM, G1, sigma_LPM = 1 heatmap pixel
limb_mask_target = dict(
    type='LimbMaskTarget',
    input_size=_base_.codec['input_size'],
    heatmap_size=_base_.codec['heatmap_size'],
    mask_type='LPM',
    groups='G1',
    sigma=1.0)

# the paper's LPM-G1 lambda; the head passes its groups to the loss
model = dict(
    head=dict(
        groups=limb_mask_target['groups'],
        loss=dict(type='NSRMLoss', lambda_g1=0.5),
        decoder=_base_.codec))

train_pipeline = [
    *_base_.train_transforms, limb_mask_target,
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

custom_hooks = [dict(type='LambdaDecayHook', gamma=0.1, step=20)]
