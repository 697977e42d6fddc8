"""The PDF renderer: plain data in (carelog.reports.document), PDF bytes out."""

from reportlab import rl_config

# reportlab checks every attribute of every chart shape as it is set: "a big help when
# developing", in its own words, and a fifth of a chart's cost. carelog's charts are built by
# code, not from input, so the check is off, set (as rl_config documents) before any shape
# class is made: every renderer module is imported through this package.
rl_config.shapeChecking = 0
