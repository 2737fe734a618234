"""Runtime helpers: safe checkpoint loading, the tools' runner setup and the
ImageNet VGG weight converter."""
