# NSRM LPM-G1 on CMU Panoptic hand, the paper's protocol (Table 3):
# dataset settings in ../_base_/datasets/panoptic_hand143_paper.py, model in
# ../_base_/nsrm_variants/lpm_g1.py.
_base_ = [
    '../_base_/datasets/panoptic_hand143_paper.py',
    '../_base_/nsrm_variants/lpm_g1.py',
]

model = dict(head=dict(decoder=_base_.codec))
custom_hooks = [_base_.lambda_decay]
train_dataloader = dict(dataset=dict(pipeline=[
    *_base_.train_transforms, _base_.structure_target,
    _base_.pack_inputs
]))
