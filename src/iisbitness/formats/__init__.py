"""Output formats. Each reads only a report document, never the model or the load plan."""
