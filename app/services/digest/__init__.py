"""The daily digest: figures, chart and delivery."""
