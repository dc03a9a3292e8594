"""Credit insurance as cover: the insurer's limits on buyers, what they protect, and the insurance policy's duties."""
