"""Evaluation metrics: 3-D ROC and AUC families, pixel-level IoU/F1, target-level Pd/Fa, contrast gains."""
