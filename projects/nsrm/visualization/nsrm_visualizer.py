"""NSRM's visualizer: MMPose's pose drawing beside the learned hand
structure (the paper's Figures 7 and 8), and the test hook that feeds it.

Layout of :class:`NSRMPoseLocalVisualizer` for a prediction with limb masks
(image H x W, every panel top-aligned, ``gap`` background columns between
panels)::

    +----------------------+---------------+-------------------------+
    | MMPose's drawing     | G1 mask over  | thumb   index   middle  |
    | (skeleton in the     | the image     | ring    little  palm    |
    | dataset's colours;   | (H x W)       | (G6 masks, each over a  |
    | + heatmaps below)    |               | shrunken image; H high) |
    +----------------------+---------------+-------------------------+

G1 models draw the first two panels, G6 models the first and the last, and
a prediction without limb masks (CPM) exactly MMPose's drawing.
"""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence

import mmcv
import mmengine
import mmengine.fileio as fileio
import numpy as np
import torch
from mmengine.dist import master_only

from mmpose.engine.hooks import PoseVisualizationHook
from mmpose.registry import HOOKS, VISUALIZERS
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer

from ..apis.inference import merge_nsrm_data_samples
from ..structures.hand_topology import (GROUP_MODES, channel_names,
                                        channel_slices, num_mask_channels)
from .mask_drawing import hstack_panels, mask_grid, overlay_mask, tile_grid

#: Structure channels -> composition mode: 1 -> 'G1', 6 -> 'G6', 7 -> 'G1&6'.
GROUPS_BY_CHANNELS: Dict[int, str] = {
    num_mask_channels(groups): groups
    for groups in GROUP_MODES
}


def groups_of(num_channels: int) -> str:
    """The composition mode of ``num_channels`` structure channels.

    Raises:
        ValueError: a count that is none of 1 (G1), 6 (G6) and 7 (G1&6).
    """
    if num_channels not in GROUPS_BY_CHANNELS:
        raise ValueError(
            f'limb masks with {num_channels} channels: expected one of '
            f'{sorted(GROUPS_BY_CHANNELS)} ('
            + ', '.join(f'{c} for {g}'
                        for c, g in GROUPS_BY_CHANNELS.items()) + ')')
    return GROUPS_BY_CHANNELS[num_channels]


def limb_mask_panels(image: np.ndarray,
                     limb_masks: np.ndarray,
                     alpha: float = 0.5,
                     pad: int = 4) -> List[np.ndarray]:
    """The structure panels of one image: the G1 mask over the image and/or
    the six G6 masks as a labelled 2 x 3 grid of the image's height.

    Args:
        image (np.ndarray): (H, W, 3) uint8 BGR.
        limb_masks (np.ndarray): (C, H, W) in [0, 1], in image space, in the
            channel order of ``hand_topology`` (C = 1, 6 or 7).
        alpha (float): Opacity at mask value 1. Defaults to 0.5.
        pad (int): The grid's padding (see ``mask_grid``). Defaults to 4.

    Returns:
        List[np.ndarray]: uint8 BGR panels: the G1 panel (H, W, 3), labelled
        ``'G1'``, and/or the G6 grid (H', W', 3) with ``th = (H - 3 * pad)
        // 2``, ``tw = round(W * th / H)``, ``H' = 2 * th + 3 * pad`` and
        ``W' = 3 * tw + 4 * pad``.
    """
    masks = np.asarray(limb_masks, dtype=np.float32)
    if masks.ndim != 3 or masks.shape[1:] != image.shape[:2]:
        raise ValueError(
            f'limb_masks must have shape (C, H, W) = (C, {image.shape[0]}, '
            f'{image.shape[1]}) (image space), got {masks.shape}')
    groups = groups_of(len(masks))
    slices = channel_slices(groups)
    names = channel_names(groups)
    panels = []
    if 'g1' in slices:
        g1 = overlay_mask(image, masks[slices['g1']][0], alpha)
        panels.append(tile_grid([g1], names[slices['g1']], pad=0))
    if 'g6' in slices:
        panels.append(
            mask_grid(image, masks[slices['g6']], names[slices['g6']],
                      cols=3, alpha=alpha, pad=pad))
    return panels


@VISUALIZERS.register_module()
class NSRMPoseLocalVisualizer(PoseLocalVisualizer):
    """MMPose's ``PoseLocalVisualizer`` plus the predicted limb masks.

    When ``data_sample.pred_fields`` has ``limb_masks`` (C, H, W) in image
    space (:func:`projects.nsrm.apis.merge_nsrm_data_samples` puts a model's
    masks there) and ``draw_pred`` is True, :meth:`add_datasample` draws
    MMPose's image and, to its right, the structure panels of
    :func:`limb_mask_panels` (see the module's layout). Otherwise it is
    exactly MMPose's visualizer.

    Args:
        name (str): The instance's name. Defaults to ``'visualizer'``.
        mask_alpha (float): Opacity of a mask at value 1. Defaults to 0.5.
        panel_gap (int): Background columns between panels, and the G6
            grid's padding. Defaults to 4.
        **kwargs: ``PoseLocalVisualizer``'s other arguments
            (``vis_backends``, ``radius``, ``line_width``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 mask_alpha: float = 0.5,
                 panel_gap: int = 4,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if not 0.0 <= mask_alpha <= 1.0:
            raise ValueError(f'{self.__class__.__name__}: mask_alpha must be '
                             f'in [0, 1], got {mask_alpha}')
        if panel_gap < 0:
            raise ValueError(f'{self.__class__.__name__}: panel_gap must be '
                             f'>= 0, got {panel_gap}')
        self.mask_alpha = mask_alpha
        self.panel_gap = int(panel_gap)

    @contextmanager
    def _without_backends(self):
        """Draws without saving: the backends are set aside meanwhile."""
        backends, self._vis_backends = self._vis_backends, {}
        try:
            yield
        finally:
            self._vis_backends = backends

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: PoseDataSample,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       draw_heatmap: bool = False,
                       draw_bbox: bool = False,
                       show_kpt_idx: bool = False,
                       skeleton_style: str = 'mmpose',
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       kpt_thr: float = 0.3,
                       step: int = 0) -> np.ndarray:
        """Draws a data sample and saves it (MMPose's arguments).

        Args:
            name (str): The image identifier.
            image (np.ndarray): (H, W, 3) uint8 RGB.
            data_sample (PoseDataSample): The sample; its optional
                ``pred_fields.limb_masks`` (C, H, W) are drawn beside MMPose's
                drawing.
            draw_gt, draw_pred, draw_heatmap, draw_bbox, show_kpt_idx,
            skeleton_style, show, wait_time, out_file, kpt_thr, step: as in
                ``PoseLocalVisualizer.add_datasample``.

        Returns:
            np.ndarray: The drawn image, RGB: (max(H_m, H), W_m + the
            panels' widths and gaps, 3), where (H_m, W_m) is MMPose's drawing
            (e.g. H_m = 2H with ``draw_heatmap``).
        """
        kwargs = dict(draw_gt=draw_gt, draw_pred=draw_pred,
                      draw_heatmap=draw_heatmap, draw_bbox=draw_bbox,
                      show_kpt_idx=show_kpt_idx,
                      skeleton_style=skeleton_style, kpt_thr=kpt_thr)
        fields = data_sample.get('pred_fields', None)
        if not draw_pred or fields is None or 'limb_masks' not in fields:
            return super().add_datasample(name, image, data_sample,
                                          show=show, wait_time=wait_time,
                                          out_file=out_file, step=step,
                                          **kwargs)
        masks = fields.limb_masks
        if torch.is_tensor(masks):
            masks = masks.detach().cpu().numpy()
        with self._without_backends():
            drawn = super().add_datasample(name, image, data_sample,
                                           **kwargs)
        # mask_drawing works in BGR, MMPose's visualizer in RGB
        panels = limb_mask_panels(
            np.ascontiguousarray(image[..., ::-1]), masks, self.mask_alpha,
            self.panel_gap)
        drawn = hstack_panels(
            [drawn, *(np.ascontiguousarray(p[..., ::-1]) for p in panels)],
            gap=self.panel_gap)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
        return self.get_image()


@HOOKS.register_module()
class NSRMPoseVisualizationHook(PoseVisualizationHook):
    """MMPose's ``PoseVisualizationHook`` that keeps the limb masks.

    MMPose's hook merges each prediction with ``merge_data_samples``, which
    keeps only the heatmaps of ``pred_fields``; this one merges with
    :func:`projects.nsrm.apis.merge_nsrm_data_samples`, so
    ``tools/test.py CONFIG CKPT --show-dir DIR`` (which enables
    ``default_hooks.visualization``) draws the limb masks too, through
    :class:`NSRMPoseLocalVisualizer`. Same arguments and file names as
    MMPose's hook (``<work_dir>/<timestamp>/<out_dir>/<stem>_<n>.<ext>``);
    in testing ``interval`` keeps every ``interval``-th sample.
    """

    def _draw(self, data_sample: PoseDataSample, name: str, step: int,
              out_file: Optional[str] = None) -> None:
        img_path = data_sample.get('img_path')
        img_bytes = fileio.get(img_path, backend_args=self.backend_args)
        image = mmcv.imfrombytes(img_bytes, channel_order='rgb')
        self._visualizer.add_datasample(
            osp.basename(img_path) if self.show else name,
            image,
            data_sample=merge_nsrm_data_samples([data_sample]),
            draw_gt=False,
            draw_bbox=True,
            draw_heatmap=True,
            show=self.show,
            wait_time=self.wait_time,
            kpt_thr=self.kpt_thr,
            out_file=out_file,
            step=step)

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence[PoseDataSample]) -> None:
        """Draws the first sample of every ``interval``-th batch."""
        if not self.enable:
            return
        self._visualizer.set_dataset_meta(runner.val_evaluator.dataset_meta)
        step = runner.iter + batch_idx
        if step % self.interval == 0:
            self._draw(outputs[0], 'val_img', step)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[PoseDataSample]) -> None:
        """Draws (and with ``out_dir`` writes) the test predictions."""
        if not self.enable:
            return
        if self.out_dir is not None:
            # MMPose's place: <work_dir>/<timestamp>/<out_dir> (absolute
            # after the first batch, so later joins leave it unchanged)
            self.out_dir = osp.join(runner.work_dir, runner.timestamp,
                                    self.out_dir)
            mmengine.mkdir_or_exist(self.out_dir)
        self._visualizer.set_dataset_meta(runner.test_evaluator.dataset_meta)
        for data_sample in outputs:
            self._test_index += 1
            if (self._test_index - 1) % self.interval:
                continue
            out_file = None
            if self.out_dir is not None:
                stem, ext = osp.basename(
                    data_sample.get('img_path')).rsplit('.', 1)
                count = sum(
                    name.startswith(f'{stem}_')
                    for name in os.listdir(self.out_dir))
                out_file = osp.join(self.out_dir, f'{stem}_{count}.{ext}')
            self._draw(data_sample, 'test_img', self._test_index, out_file)
