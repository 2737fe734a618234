# The built-in synthetic hands in the Panoptic-like labelling regime:
# keypoints hidden by an occluder inside the image are labelled [x, y, 1] at
# their true position (COCO visibility 1), those outside the image stay
# [0, 0, 0]. Everything else is synthetic_hands_cpu.py. Generate the data
# with (tools/main_job.sh does it from the config):
#   python tools/generate_synthetic_hands.py --labelling panoptic
# (into data/synthetic_hands_panoptic/). The harder occlusion level: in the
# leaf, the same three dataloader overrides as below with occlusion='hard'
# and data_root='data/synthetic_hands_panoptic_hard/' (the generator's
# folder for --labelling panoptic --occlusion hard).
_base_ = ['./synthetic_hands_cpu.py']

labelling = 'panoptic'
occlusion = 'default'
data_root = 'data/synthetic_hands_panoptic/'

# the base resolved its dataloaders at parse time: override their fields
dataset = dict(data_root=data_root, labelling=labelling, occlusion=occlusion)
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
