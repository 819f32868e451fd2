"""Deep Compression (Han et al. 2016) in four small pieces, one job each:

``magnitude`` (P: prune small weights, retrain with masks), ``quantize`` (Q: k-means weight
sharing and centroid fine-tuning), ``sparse`` (relative-index storage with filler zeros),
``huffman`` (H: canonical Huffman codes) and ``codec`` (the whole model as a real byte stream).
"""
