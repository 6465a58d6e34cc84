"""Analysis: what the layers are (connection matrices, receptive fields, what attention
looks at, attention as convolution), what they cost (parameters, FLOPs, measured time
and memory) and the five layers compared."""
