"""Question answering over a folder of Russian news articles, with citations to the exact passage."""
