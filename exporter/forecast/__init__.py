"""Forecasts and anomaly scores of series read from Prometheus (the `forecast` collector).

`config` and `results` are plain Python; everything that needs numpy (`scheduler`,
`series`, `models`) is imported only when the collector starts, so an exporter without
the forecast collector never loads numpy.
"""
