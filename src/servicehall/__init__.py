"""servicehall — 政务服务窗口服务规范管理平台."""

__version__ = "0.1.0"
