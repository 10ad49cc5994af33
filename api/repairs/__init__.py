"""Goods taken back for repair: the receipt, the register, the repair card and the return."""
