# NSRM LPM-G1&6: LPM-G1 (./lpm_g1.py) with the whole-hand mask and the six
# G6 groups (7 channels: G1, thumb, index, middle, ring, little, palm) and the
# paper's lambdas 0.1 (G1) / 0.02 (G6), both decayed x0.1 every 20 epochs.
_base_ = ['./lpm_g1.py']

structure_target = dict(groups='G1&6')
model = dict(
    head=dict(
        groups=structure_target['groups'],
        loss=dict(lambda_g1=0.1, lambda_g6=0.02)))
