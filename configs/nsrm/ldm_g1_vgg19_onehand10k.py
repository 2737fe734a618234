# NSRM LDM-G1 on OneHand10K: the LPM-G1 model with 0/1 rectangle masks
# (sigma_LDM = 1 heatmap pixel) and the paper's lambda_1 = 1.0.
_base_ = ['./lpm_g1_vgg19_onehand10k.py']

train_pipeline = _base_.train_pipeline
train_pipeline[-2] = dict(_base_.train_pipeline[-2], mask_type='LDM')
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(head=dict(loss=dict(lambda_g1=1.0)))
