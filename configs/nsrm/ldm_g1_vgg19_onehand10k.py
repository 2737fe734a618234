# NSRM LDM-G1 on OneHand10K: the LPM-G1 model (lpm_g1_vgg19_onehand10k.py)
# with 0/1 rectangle masks (sigma_LDM = 1 heatmap pixel) and the paper's
# lambda_1 = 1.0.
_base_ = ['./lpm_g1_vgg19_onehand10k.py']

limb_mask_target = dict(_base_.limb_mask_target, mask_type='LDM')
train_pipeline = [
    *_base_.train_transforms, limb_mask_target,
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(head=dict(loss=dict(lambda_g1=1.0)))
