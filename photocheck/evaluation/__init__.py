"""Evaluation helpers: compare photocheck with baselines on labelled image sets."""
