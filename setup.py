"""Installs the NSRM MMPose extension (the ``projects.nsrm`` package).

``pip install -e .`` registers nothing by itself: importing ``projects.nsrm``
(or ``custom_imports`` in a config) registers the transform, head, loss,
hook and datasets in MMPose's registries. ``projects.synthetic_hands`` (the
built-in data generator) needs only numpy and OpenCV.

mmcv 2.1.0 must be built WITH its compiled ops (``import mmpose.models``
imports ``mmcv.ops``); ``tools/setup_env.sh`` builds and caches it and
installs the exact pins of ``requirements/``. The ranges below are what the
code needs; the pins are what was verified together.
"""
from setuptools import find_packages, setup

setup(
    name='nsrm-mmpose',
    version='0.1.0',
    description='NSRM (Nonparametric Structure Regularization Machine, '
    'WACV 2020) for 2D hand pose estimation as an MMPose 1.3 extension',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['projects', 'projects.*']),
    install_requires=[
        'torch>=2.0',
        'torchvision',
        'mmengine==0.10.7',
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmpose==1.3.2',
        'mmdet==3.3.0',
        'numpy<2',
        'opencv-python<4.11',
        'xtcocotools',
    ],
    extras_require=dict(tests=['pytest']),
    zip_safe=False,
)
