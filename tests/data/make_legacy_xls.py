"""Writes tests/data/legacy_export.xls, an Excel 97-2003 workbook as older CRM and core-banking
systems export it: a report title in row 1, Chinese headers in row 2, numbers, a date, a 合计 row.

    pip install xlwt==1.3.0 && python tests/data/make_legacy_xls.py

(xlwt is not a dependency of kece: the file is committed, this script says how it was made.)
"""

import datetime as dt
from pathlib import Path

import xlwt

ROWS = [
    ("c1", 6_000_000, "高贡献", "明确意向", dt.date(2026, 11, 3)),
    ("c2", 1_500_000.5, "低贡献", "犹豫不决", dt.date(2026, 10, 20)),
    ("c3", "abc", "高贡献", "明确意向", dt.date(2026, 9, 1)),
    ("c4", 820_000, "高贡献", "犹豫不决", None),
]

book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet("客户清单")
sheet.write(0, 0, "客户清单(导出日期 2026-11-30)")
for column, name in enumerate(["客户编号", "资产规模", "贡献度", "购买意向", "开户日期"]):
    sheet.write(1, column, name)
dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
for row, values in enumerate(ROWS, start=2):
    for column, value in enumerate(values):
        if isinstance(value, dt.date):
            sheet.write(row, column, value, dates)
        elif value is not None:
            sheet.write(row, column, value)
sheet.write(len(ROWS) + 2, 0, "合计")
sheet.write(len(ROWS) + 2, 1, 8_320_000.5)
book.save(str(Path(__file__).with_name("legacy_export.xls")))
