"""Reports: KPIs from the recorded timestamps, exports, the monthly report, the dashboard."""
