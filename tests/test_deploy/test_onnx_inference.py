"""ONNX Runtime inference (projects/nsrm/deploy/onnx_inference.py) against
MMPose's PyTorch inference on a real OneHand10K image."""
import json
import os.path as osp

import numpy as np
import pytest

from projects.nsrm.deploy.onnx_export import export_onnx
from projects.nsrm.deploy.onnx_inference import (OnnxPoseModel, crop_to_image,
                                                 merge_flip, normalize_crops)
from projects.nsrm.testing import REPO, write_tiny_checkpoint

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

LPM = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'
CPM = 'configs/nsrm/cpm_synthetic_cpu.py'
#: the authors' decoding (integer argmax), registered by projects.nsrm
ARGMAX_CODEC = dict(type='NSRMHeatmap', input_size=(128, 128),
                    heatmap_size=(32, 32), sigma=2, refine='none')


def _model_and_onnx(config, folder, decoder=None, test_pipeline=None):
    """A tiny random model of ``config`` (head decoder / test pipeline
    replaced when given), and its export loaded by OnnxPoseModel."""
    from mmengine.config import Config

    from mmpose.apis import init_model
    ckpt = write_tiny_checkpoint(osp.join(REPO, config),
                                 osp.join(folder, 'tiny.pth'))
    cfg = Config.fromfile(osp.join(REPO, config))
    if decoder is not None:
        cfg.model.head.decoder = decoder
    if test_pipeline is not None:
        cfg.test_dataloader.dataset.pipeline = test_pipeline
    model = init_model(cfg, ckpt, device='cpu')
    path = osp.join(folder, 'model.onnx')
    export_onnx(model, path)
    return model, OnnxPoseModel(path, num_threads=1)


@pytest.fixture(scope='module')
def hand_image(realdata):
    """OneHand10K 9.jpg (238x358, BGR) and two boxes (xyxy): its annotated
    hand box and the whole image."""
    import mmcv
    root = osp.join(realdata, 'onehand10k')
    with open(osp.join(root, 'test_onehand10k.json')) as f:
        coco = json.load(f)
    [info] = [i for i in coco['images'] if i['file_name'] == '9.jpg']
    [ann] = [a for a in coco['annotations'] if a['image_id'] == info['id']]
    x, y, w, h = ann['bbox']
    image = mmcv.imread(osp.join(root, '9.jpg'))
    assert image.shape == (info['height'], info['width'], 3)
    boxes = np.array([[x, y, x + w, y + h],
                      [0, 0, info['width'], info['height']]], np.float32)
    return image, boxes


def test_normalize_crops_matches_the_data_preprocessor():
    crops = np.array([[[[10, 20, 30], [0, 0, 255]]]], np.uint8)  # (1,1,2,3)
    x = normalize_crops(crops, [1, 2, 3], [2, 4, 5], bgr_to_rgb=True)
    assert x.dtype == np.float32 and x.shape == (1, 3, 1, 2)
    # channels reversed (30, 20, 10) then (x - mean) / std
    np.testing.assert_allclose(x[0, :, 0, 0], [14.5, 4.5, 1.4], rtol=1e-6)
    np.testing.assert_allclose(x[0, :, 0, 1], [127.0, -0.5, -0.6],
                               rtol=1e-6)
    keep = normalize_crops(crops, [0, 0, 0], [1, 1, 1], bgr_to_rgb=False)
    np.testing.assert_array_equal(keep[0, :, 0, 0], [10, 20, 30])
    with pytest.raises(ValueError, match=r'\(N, h, w, 3\)'):
        normalize_crops(crops[0], [0, 0, 0], [1, 1, 1], False)


def test_crop_to_image_inverts_the_crop():
    # crop of 256x256 image px centred at (100, 50), seen at 128x128
    kpts = np.array([[[32.0, 64.0], [0.0, 128.0]]], np.float32)
    out = crop_to_image(kpts, (128, 128), np.array([[100.0, 50.0]]),
                        np.array([[256.0, 256.0]]))
    # x = 32 / 128 * 256 + 100 - 128 = 36, y = 64 / 128 * 256 + 50 - 128
    np.testing.assert_allclose(out, [[[36.0, 50.0], [-28.0, 178.0]]])
    assert out.dtype == np.float32
    assert kpts[0, 0, 0] == 32.0  # not modified in place


def test_merge_flip_swaps_mirrors_and_shifts():
    maps = np.zeros((1, 2, 1, 3), np.float32)
    flip = np.array([[[[1, 2, 3]], [[4, 5, 6]]]], np.float32)
    # mirrored channels swapped, each row reversed: [[6,5,4]], [[3,2,1]]
    out = merge_flip(maps, flip, [1, 0], 'heatmap', shift_heatmap=False)
    np.testing.assert_allclose(out[0, :, 0], [[3, 2.5, 2], [1.5, 1, 0.5]])
    # shifted one pixel right (the first column repeats)
    out = merge_flip(maps, flip, None, 'heatmap', shift_heatmap=True)
    np.testing.assert_allclose(out[0, :, 0], [[1.5, 1.5, 1], [3, 3, 2.5]])


@pytest.fixture(scope='module')
def lpm_argmax(tmp_path_factory):
    return _model_and_onnx(LPM, str(tmp_path_factory.mktemp('lpm_argmax')),
                           decoder=ARGMAX_CODEC)


def test_onnx_runtime_keypoints_equal_inference_topdown(
        lpm_argmax, hand_image):
    """LPM-G1&6 with flip test and the argmax codec (NSRMHeatmap): the same
    keypoints as mmpose.apis.inference_topdown to 1e-3 px."""
    from mmpose.apis import inference_topdown
    model, onnx_model = lpm_argmax
    assert type(onnx_model.codec).__name__ == 'NSRMHeatmap'
    assert onnx_model.meta['flip_test'] is True
    image, boxes = hand_image
    ref = inference_topdown(model, image, boxes)
    got = onnx_model.predict(image, boxes)
    assert got['keypoints'].shape == (2, 21, 2)
    assert got['scores'].shape == (2, 21)
    assert got['limb_masks'].shape == (2, 7, 32, 32)
    for i, sample in enumerate(ref):
        pred = sample.pred_instances
        np.testing.assert_allclose(got['keypoints'][i], pred.keypoints[0],
                                   rtol=0, atol=1e-3)
        np.testing.assert_allclose(got['scores'][i],
                                   pred.keypoint_scores[0], rtol=0,
                                   atol=1e-6)
        fields = sample.pred_fields
        np.testing.assert_allclose(got['heatmaps'][i],
                                   fields.heatmaps.numpy(), rtol=0,
                                   atol=1e-6)
        np.testing.assert_allclose(got['limb_masks'][i],
                                   fields.limb_masks.numpy(), rtol=0,
                                   atol=1e-6)
    # the box really matters: the two crops give different keypoints
    assert np.abs(got['keypoints'][0] - got['keypoints'][1]).max() > 1
    # keypoints found (score > 0; MMPose marks the others at grid -1) lie
    # on the padded square crop of the box, in image pixels
    x0, y0, x1, y1 = boxes[0]
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 1.25 * max(x1 - x0,
                                                            y1 - y0) / 2
    np.testing.assert_allclose(got['input_center'][0], [cx, cy])
    np.testing.assert_allclose(got['input_scale'][0], [2 * half] * 2)
    found = got['scores'][0] > 0
    assert found.sum() >= 10
    assert np.all(np.abs(got['keypoints'][0][found] - [cx, cy]) <= half)

    # bboxes=None: the whole image, as inference_topdown
    whole = onnx_model.predict(image)
    np.testing.assert_allclose(
        whole['keypoints'][0], inference_topdown(model, image)[0]
        .pred_instances.keypoints[0], rtol=0, atol=1e-3)


def test_dark_decoding_differences_come_from_the_decoder(tmp_path,
                                                         hand_image):
    """The config's own codec (MSRAHeatmap, DARK refinement). The pipeline
    is identical: PyTorch's heatmaps through OnnxPoseModel's decoding and
    mapping give inference_topdown's keypoints to 1e-3 px. End to end, the
    ~1e-7 heatmap differences of two conv implementations are amplified by
    DARK's Taylor step, which divides by the Hessian of the blurred
    log-heatmap: near zero on the flat maps of an untrained model, so a few
    keypoints move by up to ~0.02 px (same argmax cell)."""
    from mmpose.apis import inference_topdown
    from mmpose.codecs.utils import get_heatmap_maximum
    model, onnx_model = _model_and_onnx(LPM, str(tmp_path))
    assert type(onnx_model.codec).__name__ == 'MSRAHeatmap'
    image, boxes = hand_image
    ref = inference_topdown(model, image, boxes)
    got = onnx_model.predict(image, boxes)
    for i, sample in enumerate(ref):
        pt_heatmaps = sample.pred_fields.heatmaps.numpy()
        pt_keypoints = sample.pred_instances.keypoints[0]
        np.testing.assert_allclose(got['heatmaps'][i], pt_heatmaps, rtol=0,
                                   atol=1e-6)
        np.testing.assert_array_equal(
            get_heatmap_maximum(got['heatmaps'][i])[0],
            get_heatmap_maximum(pt_heatmaps)[0])
        decoded, _ = onnx_model.codec.decode(pt_heatmaps)
        mapped = crop_to_image(decoded, onnx_model.input_size,
                               got['input_center'][i:i + 1],
                               got['input_scale'][i:i + 1])
        np.testing.assert_allclose(mapped[0], pt_keypoints, rtol=0,
                                   atol=1e-3)
        np.testing.assert_allclose(got['keypoints'][i], pt_keypoints,
                                   rtol=0, atol=0.05)


def test_cpm_model_predicts_without_limb_masks(tmp_path, hand_image):
    from mmpose.apis import inference_topdown
    model, onnx_model = _model_and_onnx(CPM, str(tmp_path),
                                        decoder=ARGMAX_CODEC)
    assert onnx_model.structure_channels == ()
    image, boxes = hand_image
    got = onnx_model.predict(image, boxes[:1])
    assert 'limb_masks' not in got
    ref = inference_topdown(model, image, boxes[:1])[0].pred_instances
    np.testing.assert_allclose(got['keypoints'][0], ref.keypoints[0],
                               rtol=0, atol=1e-3)


def test_whole_image_resize_pipeline(tmp_path, hand_image):
    """A test pipeline with WholeImageResize (the paper's OneHand10K
    configs): the box is ignored, the image squeezed to the input."""
    from mmpose.apis import inference_topdown
    pipeline = [dict(type='LoadImage'),
                dict(type='WholeImageResize', input_size=(128, 128)),
                dict(type='PackPoseInputs')]
    model, onnx_model = _model_and_onnx(LPM, str(tmp_path), ARGMAX_CODEC,
                                        pipeline)
    assert onnx_model.meta['pipeline'] == [
        dict(type='WholeImageResize', input_size=[128, 128])]
    assert onnx_model.meta['bbox_padding'] is None
    image, boxes = hand_image
    got = onnx_model.predict(image, boxes[:1])
    ref = inference_topdown(model, image, boxes[:1])[0].pred_instances
    np.testing.assert_allclose(got['keypoints'][0], ref.keypoints[0],
                               rtol=0, atol=1e-3)
    # the crop is the whole 238x358 image
    np.testing.assert_allclose(got['input_center'][0], [119, 179])
    np.testing.assert_allclose(got['input_scale'][0], [238, 358])


def test_predict_checks_its_inputs(lpm_argmax):
    _, onnx_model = lpm_argmax
    image = np.zeros((40, 60, 3), np.uint8)
    with pytest.raises(ValueError, match='uint8 BGR'):
        onnx_model.predict(image.astype(np.float32))
    with pytest.raises(ValueError, match='uint8 BGR'):
        onnx_model.predict(image[..., 0])
    with pytest.raises(ValueError, match=r'bboxes must be \(N, 4\)'):
        onnx_model.predict(image, np.array([0, 0, 10, 10]))
    empty = onnx_model.predict(image, np.zeros((0, 4)))
    assert empty['keypoints'].shape == (0, 21, 2)
    assert empty['scores'].shape == (0, 21)
    assert empty['limb_masks'].shape == (0, 7, 32, 32)
    # integer boxes are accepted (cast to float32)
    assert onnx_model.predict(image, [[5, 5, 30, 35]])['keypoints'].shape \
        == (1, 21, 2)


def test_files_without_metadata_are_refused(tmp_path):
    import torch
    with pytest.raises(FileNotFoundError, match='no_such.onnx'):
        OnnxPoseModel(str(tmp_path / 'no_such.onnx'))
    path = str(tmp_path / 'bare.onnx')
    torch.onnx.export(torch.nn.Conv2d(3, 2, 1), (torch.zeros(1, 3, 4, 4), ),
                      path, dynamo=False)
    with pytest.raises(ValueError, match=r'bare.onnx: metadata .* missing'):
        OnnxPoseModel(path)
