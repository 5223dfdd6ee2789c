"""Reports: the dashboard's figures for a period, the daily roll-up and the weekly report to leads."""
