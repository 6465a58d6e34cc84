"""The data the course trains and draws on, all offline: the digits, the toy words,
the content lookup, MNIST-1D and multi-query associative recall. Tensors only; no model
inside."""
