# "Real Mask" on OneHand10K, the paper's protocol (Table 2): structure
# supervision from OneHand10K's own hand masks with a constant lambda_1 = 1.0
# (../_base_/nsrm_variants/real_mask.py). Needs the original release's
# Train/mask and Test/mask folders beside Train/source and Test/source.
_base_ = [
    '../_base_/datasets/onehand10k_paper.py',
    '../_base_/nsrm_variants/real_mask.py',
]

model = dict(head=dict(decoder=_base_.codec))
custom_hooks = []
train_dataloader = dict(dataset=dict(pipeline=[
    *_base_.train_transforms, _base_.load_hand_mask, _base_.structure_target,
    _base_.pack_inputs
]))
