"""Triton kernels, each beside its pure-PyTorch reference."""
