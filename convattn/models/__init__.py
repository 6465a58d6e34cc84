"""The models: the blocks (the one token block, MBConv), the image models of chapters 1
and 5, the sequence models of chapter 6 and the recall model (four token mixers). No
data set and no training loop here."""
