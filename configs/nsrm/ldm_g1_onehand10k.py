# NSRM LDM-G1 on OneHand10K, the paper's protocol (Table 2): dataset
# settings in ../_base_/datasets/onehand10k_paper.py, model in
# ../_base_/nsrm_variants/ldm_g1.py.
_base_ = [
    '../_base_/datasets/onehand10k_paper.py',
    '../_base_/nsrm_variants/ldm_g1.py',
]

model = dict(head=dict(decoder=_base_.codec))
custom_hooks = [_base_.lambda_decay]
train_dataloader = dict(dataset=dict(pipeline=[
    *_base_.train_transforms, _base_.structure_target,
    _base_.pack_inputs
]))
