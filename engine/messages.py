"""The words kece itself shows (headings, summaries), in Chinese and English.

Labels and strategies come from the rule packs; everything else a reader sees comes from here,
so a zh run shows no English chrome and an en run no Chinese.
"""

from __future__ import annotations

LANGS = ("zh", "en")

CATALOG: dict[str, dict[str, str]] = {
    "zh": {
        "rules_ok": "规则检查通过:{schemes} 个方案,{rules} 条规则,{examples} 个示例({where})",
        "bundled": "内置规则",
        "local": "本地规则",
        "scheme": "方案",
        "title": "名称",
        "hit_policy": "命中策略",
        "rules": "规则数",
        "inputs": "输入",
        "examples": "示例",
        "file": "文件",
        "rule": "规则",
        "label": "标签",
        "customers": "客户数",
        "share": "占比",
        "unmatched": "未匹配",
        "conflict": "规则冲突",
        "rejected": "拒收行",
        "score": "得分",
        "matched_rules": "命中规则",
        "result": "结果",
        "skipped": "已跳过方案 {scheme}:文件缺少列 {columns}",
        "skipped_customer": "已跳过方案 {scheme}:客户缺少字段 {columns}",
        "wrote": "已写入 {path}",
        "wrote_rows": "{rows_in} 行输入:{rows_out} 行已评估,{rejected} 行拒收",
        "summary_title": "{scheme}({title})",
        "problems": "规则文件中有 {count} 个问题",
        "examples_failed": "{count} 个示例与规则不符",
        "internal_error": "kece 内部错误:{error}。请加 --debug 重新运行以查看详细信息,并报告此问题。",
        "using_rules": "使用规则:{path}({where})",
    },
    "en": {
        "rules_ok": "Rules OK: {schemes} schemes, {rules} rules, {examples} examples ({where})",
        "bundled": "bundled rules",
        "local": "local rules",
        "scheme": "Scheme",
        "title": "Title",
        "hit_policy": "Hit policy",
        "rules": "Rules",
        "inputs": "Inputs",
        "examples": "Examples",
        "file": "File",
        "rule": "Rule",
        "label": "Label",
        "customers": "Customers",
        "share": "Share",
        "unmatched": "unmatched",
        "conflict": "conflict",
        "rejected": "rejected rows",
        "score": "Score",
        "matched_rules": "Matched rules",
        "result": "Result",
        "skipped": "Skipped scheme {scheme}: the file has no column {columns}",
        "skipped_customer": "Skipped scheme {scheme}: the customer has no field {columns}",
        "wrote": "Wrote {path}",
        "wrote_rows": "{rows_in} rows in: {rows_out} evaluated, {rejected} rejected",
        "summary_title": "{scheme} ({title})",
        "problems": "{count} problem(s) in the rule files",
        "examples_failed": "{count} example result(s) disagree with the rules",
        "internal_error": "kece internal error: {error}. Run again with --debug for details, and please report it.",
        "using_rules": "Rules: {path} ({where})",
    },
}


def t(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang` (zh when unknown), with `values` filled in."""
    return CATALOG.get(lang, CATALOG["zh"])[key].format(**values)
