# Stock MMPose top-down heatmap model (a slim 2-stage ResNet + HeatmapHead)
# on the built-in synthetic hands, CPU-sized: the reference NSRM is compared
# with. A sibling of configs/nsrm/{lpm_g1g6,cpm}_synthetic_cpu.py: same
# dataset base, same backbone.
_base_ = [
    '../_base_/datasets/synthetic_hands_cpu.py',
    '../_base_/models/heatmap_resnet_slim_cpu.py',
]

model = dict(head=dict(decoder=_base_.codec))
