# NSRM LPM-G1 (the paper's model, Fig. 5: 3 structure + 3 pose stages on
# VGG-19 conv4_4): Gaussian limb masks (sigma_LPM = 1 heatmap pixel) of the
# whole hand, lambda_1 = 0.5, decayed x0.1 every 20 epochs. The other
# variants inherit it. Joined with a dataset base by configs/nsrm/*_*.py,
# which add `structure_target` to the train pipeline.
# Both datasets use the paper's 368x368 inputs and 46x46 maps.
# (On OneHand10K the authors report sigma_LPM ~ 0.03 x the box size in input
# pixels; these configs keep the paper's 1 heatmap pixel for both datasets.)
_base_ = ['../models/nsrm_vgg19.py']

structure_target = dict(
    type='LimbMaskTarget',
    input_size=(368, 368),
    heatmap_size=(46, 46),
    mask_type='LPM',
    groups='G1',
    sigma=1.0)

# the head passes its groups to the loss
model = dict(
    head=dict(
        groups=structure_target['groups'],
        loss=dict(type='NSRMLoss', lambda_g1=0.5)))

# the leaf configs set custom_hooks = [_base_.lambda_decay] (custom_hooks is
# also a key of the dataset bases' runtime, and MMEngine forbids a key in two
# bases)
lambda_decay = dict(type='LambdaDecayHook', gamma=0.1, step=20)
