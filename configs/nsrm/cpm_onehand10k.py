# The CPM baseline on OneHand10K, the paper's protocol (Table 2): dataset
# settings in ../_base_/datasets/onehand10k_paper.py, model in
# ../_base_/nsrm_variants/cpm.py.
_base_ = [
    '../_base_/datasets/onehand10k_paper.py',
    '../_base_/nsrm_variants/cpm.py',
]

model = dict(head=dict(decoder=_base_.codec))
custom_hooks = []
