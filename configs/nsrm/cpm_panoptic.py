# The CPM baseline on CMU Panoptic hand, the paper's protocol (Table 3):
# dataset settings in ../_base_/datasets/panoptic_hand143_paper.py, model in
# ../_base_/nsrm_variants/cpm.py.
_base_ = [
    '../_base_/datasets/panoptic_hand143_paper.py',
    '../_base_/nsrm_variants/cpm.py',
]

model = dict(head=dict(decoder=_base_.codec))
custom_hooks = []
