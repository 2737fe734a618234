# "Real Mask" (Table 2): the LPM-G1 model (./lpm_g1.py) whose single
# structure channel learns the dataset's own hand segmentation instead of
# synthetic limb masks: OneHand10K's mask image per photo
# (Train/source/<n>.jpg -> Train/mask/<n>.png), loaded at image resolution
# and warped with the image (HandMaskTarget: the fraction of each 8x8 cell
# covered by the hand). lambda_1 = 1.0 (the paper does not give the weight of
# its Real Mask rows; 1.0 is LDM-G1's, the other 0/1 target). "Real Mask" keeps
# it constant, "Real Mask ++" decays it like NSRM (the leaf configs).
_base_ = ['./lpm_g1.py']

load_hand_mask = dict(type='LoadHandMask', source='mask_file')
structure_target = dict(
    _delete_=True,
    type='HandMaskTarget',
    input_size=(368, 368),
    heatmap_size=(46, 46),
    groups='G1')
model = dict(head=dict(loss=dict(lambda_g1=1.0)))
