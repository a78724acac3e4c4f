"""`rag eval` and `rag calibrate`: labelled question sets (dataset), metrics, the report and chart, the CI gate,
and the abstention threshold calibration. Consumers of the pipeline, like serve/."""
