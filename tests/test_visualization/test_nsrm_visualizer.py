"""NSRMPoseLocalVisualizer: MMPose's drawing beside the limb masks (layout
and exact sizes), nothing added without masks, its --show-dir hook, and the
pure panel helpers it draws with."""
import glob
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer
from projects.nsrm.apis import (build_visualizer, inference_nsrm,
                                init_nsrm_model, read_image)
from projects.nsrm.testing import TINY_OPTIONS, data_options, run_tool
from projects.nsrm.visualization import (NSRMPoseLocalVisualizer,
                                         NSRMPoseVisualizationHook,
                                         limb_mask_panels)
from projects.nsrm.visualization.mask_drawing import (hstack_panels, mask_grid,
                                                      overlay_mask, tile_grid,
                                                      title_bar)

LPM = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'
CPM = 'configs/nsrm/cpm_synthetic_cpu.py'
META = parse_pose_metainfo(
    dict(from_file='configs/_base_/datasets/onehand10k.py'))
# widths on a 128 x 128 image, pad / gap 4: the G6 grid's tiles are
# (128 - 3 * 4) // 2 = 58 px, the grid 3 * (58 + 4) + 4 = 190 px wide
SKELETON, G1, GRID, GAP = 128, 128, 190, 4


def make_visualizer(cls=NSRMPoseLocalVisualizer, name='t', **kwargs):
    """A visualizer with the hand skeleton, made as the registry makes it
    (``get_instance``), under a fresh name."""
    make_visualizer.count = getattr(make_visualizer, 'count', 0) + 1
    vis = cls.get_instance(f'{name}{make_visualizer.count}', **kwargs)
    vis.set_dataset_meta(META)
    return vis


def sample_with(masks=None, heatmaps=None, size=128):
    """An image-space prediction: a hand of 21 keypoints (score 1) and
    optional ``pred_fields``."""
    rng = np.random.default_rng(0)
    sample = PoseDataSample()
    sample.pred_instances = InstanceData(
        keypoints=rng.uniform(10, size - 10, (1, 21, 2)),
        keypoint_scores=np.ones((1, 21)),
        bboxes=np.array([[0, 0, size, size]], np.float32),
        bbox_scores=np.ones(1))
    fields = {}
    if masks is not None:
        fields['limb_masks'] = masks
    if heatmaps is not None:
        fields['heatmaps'] = heatmaps
    if fields:
        sample.pred_fields = PixelData(**fields)
    return sample


@pytest.fixture
def image():
    return np.random.default_rng(1).integers(0, 256, (128, 128, 3), np.uint8)


def ramp_masks(channels, size=128):
    """(C, size, size): channel c is c / C + a horizontal ramp, in [0, 1]."""
    ramp = np.linspace(0, 1, size, dtype=np.float32)[None, None]
    base = (np.arange(channels, dtype=np.float32) / channels)[:, None, None]
    return np.clip(0.5 * base + 0.5 * ramp, 0, 1) * np.ones(
        (channels, size, size), np.float32)


@pytest.mark.parametrize('channels,width', [
    (7, SKELETON + GAP + G1 + GAP + GRID),  # G1&6: 454
    (1, SKELETON + GAP + G1),  # G1: 260
    (6, SKELETON + GAP + GRID),  # G6: 322
])
def test_width_with_masks(image, channels, width):
    vis = make_visualizer()
    out = vis.add_datasample('x', image, sample_with(ramp_masks(channels)),
                             draw_gt=False)
    assert out.shape == (128, width, 3)
    plain = make_visualizer(PoseLocalVisualizer).add_datasample(
        'x', image, sample_with(), draw_gt=False)
    # the left panel is MMPose's drawing, then a white gap
    np.testing.assert_array_equal(out[:, :SKELETON], plain)
    assert (out[:, SKELETON:SKELETON + GAP] == 255).all()


def test_g1_panel_is_the_mask_over_the_image(image):
    masks = ramp_masks(7)
    out = make_visualizer().add_datasample('x', image, sample_with(masks),
                                           draw_gt=False)
    g1 = out[:, SKELETON + GAP:SKELETON + GAP + G1]
    expected = overlay_mask(image[..., ::-1].copy(), masks[0], 0.5)[..., ::-1]
    # below the 'G1' label the panel is exactly the overlay (RGB)
    np.testing.assert_array_equal(g1[40:], expected[40:])
    # the mask brightens towards the right (the ramp): the panel differs
    # from the image more at the right edge than at the left
    diff = np.abs(g1[40:].astype(int) - image[40:]).sum(axis=(0, 2))
    assert diff[-10:].sum() > diff[:10].sum()


def test_without_masks_it_is_mmposes_drawing(image):
    """No limb masks (CPM), or heatmaps only, or draw_pred=False: the same
    image as MMPose's PoseLocalVisualizer, with the heatmap row too."""
    heatmaps = np.random.default_rng(2).random((21, 128, 128)).astype(
        np.float32)
    for sample, kwargs in [(sample_with(), {}),
                           (sample_with(heatmaps=heatmaps),
                            dict(draw_heatmap=True)),
                           (sample_with(ramp_masks(7)),
                            dict(draw_pred=False))]:
        ours = make_visualizer().add_datasample('x', image, sample, **kwargs)
        mmpose = make_visualizer(PoseLocalVisualizer).add_datasample(
            'x', image, sample, **kwargs)
        np.testing.assert_array_equal(ours, mmpose)


def test_heatmap_row_keeps_the_panels_top_aligned(image):
    heatmaps = np.zeros((21, 128, 128), np.float32)
    out = make_visualizer().add_datasample(
        'x', image, sample_with(ramp_masks(7), heatmaps), draw_gt=False,
        draw_heatmap=True)
    assert out.shape == (256, 454, 3)  # MMPose's drawing is 2 x 128 high
    assert (out[128:, SKELETON + GAP:] == 255).all()  # padding below


def test_masks_must_be_in_image_space(image):
    vis = make_visualizer()
    with pytest.raises(ValueError, match=r'\(C, 128, 128\) \(image space\)'):
        vis.add_datasample('x', image, sample_with(ramp_masks(7, 32)))
    with pytest.raises(ValueError, match='5 channels: expected one of'):
        vis.add_datasample('x', image, sample_with(ramp_masks(5)))
    with pytest.raises(ValueError, match='mask_alpha must be in'):
        NSRMPoseLocalVisualizer(name='bad-alpha', mask_alpha=1.5)


def test_saving_out_file_and_backends(image, tmp_path):
    """out_file gets the composed image (BGR on disk); without it the
    backends save it once, not MMPose's partial drawing as well."""
    vis = make_visualizer(vis_backends=[dict(type='LocalVisBackend')],
                          save_dir=str(tmp_path / 'backend'))
    sample = sample_with(torch.from_numpy(ramp_masks(7)))
    out_file = str(tmp_path / 'out.png')
    drawn = vis.add_datasample('x', image, sample, draw_gt=False,
                               out_file=out_file)
    np.testing.assert_array_equal(cv2.imread(out_file)[..., ::-1], drawn)
    assert glob.glob(str(tmp_path / 'backend' / '**' / '*.png'),
                     recursive=True) == []
    vis.add_datasample('y', image, sample, draw_gt=False, step=3)
    saved = glob.glob(str(tmp_path / 'backend' / '**' / '*.png'),
                      recursive=True)
    assert len(saved) == 1 and cv2.imread(saved[0]).shape == (128, 454, 3)


def test_pure_panel_geometry():
    image = np.zeros((100, 160, 3), np.uint8)
    # tiles (100 - 12) // 2 = 44 high and round(160 * 44 / 100) = 70 wide
    grid = mask_grid(image, np.ones((6, 10, 10)), list('abcdef'))
    assert grid.shape == (2 * 48 + 4, 3 * 74 + 4, 3)
    panels = limb_mask_panels(image, np.zeros((7, 100, 160)))
    assert [p.shape for p in panels] == [(100, 160, 3), (100, 226, 3)]
    # a zero G1 mask leaves the image as it was (below the label)
    assert (panels[0][40:] == 0).all()
    stacked = hstack_panels([np.zeros((10, 3, 3), np.uint8),
                             np.zeros((6, 2, 3), np.uint8)], gap=1)
    assert stacked.shape == (10, 6, 3)
    assert (stacked[:, 3] == 255).all() and (stacked[6:, 4:] == 255).all()
    assert (stacked[:6, 4:] == 0).all() and (stacked[:, :3] == 0).all()
    titled = title_bar(np.zeros((10, 50, 3), np.uint8), 'CPM 50%',
                       height=20)
    assert titled.shape == (30, 50, 3)
    assert (titled[20:] == 0).all() and titled[:20].min() < 128  # text
    assert tile_grid([image], ['G1'], pad=0).shape == image.shape


def test_tiny_models_through_the_config_visualizer(tiny_checkpoints,
                                                   tiny_hands):
    """The configs' visualizer (NSRMPoseLocalVisualizer): the NSRM model
    gets the mask panels, the CPM model exactly MMPose's image."""
    image = read_image(osp.join(tiny_hands, 'images', 'val', '000002.jpg'))
    rgb = image[..., ::-1]
    lpm = init_nsrm_model(LPM, tiny_checkpoints['lpm'])
    vis = build_visualizer(lpm)
    assert isinstance(vis, NSRMPoseLocalVisualizer)
    drawn = vis.add_datasample('x', rgb, inference_nsrm(lpm, image),
                               draw_gt=False, kpt_thr=0.0)
    assert drawn.shape == (128, 454, 3)
    cpm = init_nsrm_model(CPM, tiny_checkpoints['cpm'])
    sample = inference_nsrm(cpm, image)
    ours = build_visualizer(cpm).add_datasample('x', rgb, sample,
                                                draw_gt=False, kpt_thr=0.0)
    mmpose = make_visualizer(PoseLocalVisualizer).add_datasample(
        'x', rgb, sample, draw_gt=False, kpt_thr=0.0)
    assert ours.shape == (128, 128, 3)
    np.testing.assert_array_equal(ours, mmpose)


def test_hook_draws_the_masks_of_the_test_outputs(tiny_hands, tmp_path):
    """The --show-dir hook on a model's raw test output (masks on the 32x32
    grid of the crop): files <stem>_0.jpg, skeleton + heatmap row beside the
    mask panels."""
    from mmengine.visualization import Visualizer
    vis = make_visualizer()
    assert Visualizer.get_current_instance() is vis
    hook = NSRMPoseVisualizationHook(enable=True, out_dir='vis', interval=1)
    assert hook._visualizer is vis
    outputs = []
    for i in range(3):
        sample = PoseDataSample(metainfo=dict(
            img_path=osp.join(tiny_hands, 'images', 'val', f'00000{i}.jpg'),
            input_center=np.array([64, 64], np.float32),
            input_scale=np.array([128, 128], np.float32),
            ori_shape=(128, 128)))
        sample.pred_instances = sample_with().pred_instances
        sample.pred_fields = PixelData(heatmaps=torch.rand(21, 32, 32),
                                       limb_masks=torch.rand(7, 32, 32))
        outputs.append(sample)
    runner = SimpleNamespace(work_dir=str(tmp_path), timestamp='ts',
                             test_evaluator=SimpleNamespace(
                                 dataset_meta=META))
    hook.after_test_iter(runner, 0, {}, outputs[:2])
    files = sorted(glob.glob(str(tmp_path / 'ts' / 'vis' / '*')))
    assert [osp.basename(f) for f in files] == ['000000_0.jpg',
                                                '000001_0.jpg']
    assert cv2.imread(files[0]).shape == (256, 454, 3)
    # --interval 2 keeps every second test sample (MMPose's hook ignores it)
    hook = NSRMPoseVisualizationHook(enable=True, out_dir='vis2', interval=2)
    hook.after_test_iter(runner, 0, {}, outputs)
    assert sorted(osp.basename(f) for f in glob.glob(
        str(tmp_path / 'ts' / 'vis2' / '*'))) == ['000000_0.jpg',
                                                  '000002_0.jpg']


@pytest.mark.slow
def test_tools_test_show_dir_draws_the_masks(tiny_checkpoints, tiny_hands,
                                             tmp_path):
    work_dir = str(tmp_path / 'work')
    run_tool([
        'tools/test.py', LPM, tiny_checkpoints['lpm'], '--work-dir', work_dir,
        '--show-dir', 'vis', '--cfg-options', *TINY_OPTIONS,
        *data_options(tiny_hands)
    ])
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis', '*.jpg')))
    assert len(files) == 8  # the 8 val images, one hand each
    for path in files:
        # skeleton over heatmaps (128 x 2 high), G1, the G6 grid
        assert cv2.imread(path).shape == (256, 454, 3)
    assert osp.basename(files[0]) == '000000_0.jpg'
