"""Target maths of NSRM (pure numpy, in ``codecs/utils``)."""
