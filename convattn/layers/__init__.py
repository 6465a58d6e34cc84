"""The layers, from scratch: fully connected, convolution, attention (basic, QKV,
relative) and positional encodings. Each equals the PyTorch built-in it mirrors."""
