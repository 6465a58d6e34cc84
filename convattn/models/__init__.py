"""The models: the blocks (the one token block, MBConv), the image models of chapters 1
and 5, and the sequence models of chapter 6. No data set and no training loop here."""
