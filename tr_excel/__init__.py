"""tr-excel: check, reconcile and consolidate Shanxi 技术改造专项资金 application workbooks."""

__version__ = "0.1.0"
