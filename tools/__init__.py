"""Developer tools outside the product package (not installed): the benchmark."""
