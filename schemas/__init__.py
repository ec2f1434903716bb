"""The shared vocabulary: typed records passed between hkai's stages."""
