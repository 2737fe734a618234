# cpm_hard_onehand10k.py in the Panoptic-like labelling regime: keypoints
# hidden by an occluder keep their true position, labelled v = 1, and are
# trained on and scored (PCK@t/occluded).
_base_ = ['./cpm_hard_onehand10k.py']

dataset = dict(
    data_root='data/synthetic_hands_panoptic_hard/', labelling='panoptic')
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
