# MMPose's top-down pose estimator with ImageNet normalisation, the part every
# model here shares. Model bases inherit from it and add the backbone, the
# head and test_cfg; leaf configs give the head its decoder (the dataset
# base's codec). Holds only `model`, so that a leaf can join a model base
# with a dataset base (MMEngine forbids a key in two bases).
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True))
