"""The Chinese of `kece --help`. The English stays beside each command and option (cli.py, params.py);
here is its translation, keyed by where the English lives (tests/test_help.py fails on a gap):

- COMMANDS: a command's summary (its docstring) by command name; "kece" is the group itself.
- SHARED: an option declared once in engine/console/params.py, by its name there ("RulesOption").
- PARAMS: any other option or argument, by command and the name --help shows ("evaluate --duplicates",
  "compare old"; "kece --debug" for the group's own option).

Then the words Typer and click add themselves: panel headings, usage line, usage errors. No square
brackets in help texts: Typer reads them as rich markup.
"""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    "kece": "客策 kece:客户分群规则与销售行动方案。先试试:kece check,或 kece evaluate 客户文件.csv",
    "check": "读取并校验规则文件,在两个引擎上运行规则自带的示例,并找出重叠、缺口、永远不会命中的规则和相互矛盾之处;"
             "每个问题都标明位置(文件:行:列)。",
    "test": "在两个引擎上运行每个方案的示例:每个规则包一张表,每个失败的示例都标明位置。",
    "evaluate": "评估客户:一个客户文件(CSV、.xlsx/.xls、.parquet、.jsonl;每个有效行输出一行),或用 --customer 以 JSON "
                "给出的一位客户。结果按输出文件的扩展名写成 .csv、.xlsx 或 .parquet。",
    "explain": "说明客户为什么落在这些分群:逐条列出规则和条件以及该客户的取值、命中策略的选择,以及客户还差什么才能进入"
               "更好的一条规则。加 --actions 时:说明仲裁策略如何为该客户的行动方案挑选行动。",
    "plan": "按行动手册模板为客户经理写行动方案:这位客户对我们是什么样的客户、为什么;什么时候之前要做什么(各方案合并);"
            "怎么和客户沟通;每项行动的依据。",
    "report": "生成一个独立的 HTML 页面:每个方案下客户在各条规则上的分布(图表和数字)、两个方案的交叉热力图、未匹配和"
              "规则冲突、没有客户命中的规则,以及按原因统计的拒收行。",
    "impact": "规则变更对真实客户的影响:每个有变化的方案中,哪些客户从哪个结果变到了哪个结果(迁移矩阵)、背后是哪些规则"
              "修改,以及变动客户经仲裁后的行动如何变化。退出码 0(加 --fail-on-change 时,只要有客户变动就为 1)。",
    "compare": "对比 kece evaluate 的两次输出(例如上月和本月),按客户编号配对:每个方案的迁移矩阵和变动的客户,"
               "以及新出现和离开的客户。",
    "derive": "由交易文件为每位客户生成一行:最近一次交易距今天数、交易频次、消费金额、趋势、流失迹象,以及校准后的"
              " RFM 得分、价值金字塔层级和 CLV(见 rules/features.yaml、docs/features.md)。",
    "calibrate": "拟合并保存按客群相对计算的特征的分割点(RFM 五分位、价值金字塔阈值),让以后的文件和单个客户按同一标准"
                 "打分。",
    "init": "为业务团队建一个工作区:内置规则包和行动手册模板的副本、示例数据和一份简短指南;在工作区里运行的 kece 命令"
            "使用其中的规则。",
    "schema": "输出规则文件、仲裁策略或行动目录的 JSON Schema(供编辑器校验和自动补全)。",
}

SHARED: dict[str, str] = {
    "EngineOption": "local(在本机分块计算)或 spark(Apache Spark:INPUT 为 .parquet 或 .csv 路径,或 table:库名.表名;"
                    "结果写成 Parquet;需先 pip install 'kece\\[spark]' 并安装 Java 17 以上)。",
    "MasterOption": "配合 --engine spark:Spark 的 master,例如 local[2]、yarn、spark://host:7077"
                    "(默认:spark-submit 已启动的会话,否则 local[*])。",
    "RulesOption": "规则文件所在的文件夹(默认:当前目录下有 ./rules 就用它,否则用内置规则包)。",
    "LangOption": "标签和提示信息的语言:zh(中文)或 en(英文)。",
    "CalibrationOption": "kece calibrate 生成的校准文件:据 recency_days、frequency、monetary_total 计算 r_score、"
                         "f_score、m_score、pyramid_tier 和 clv。",
    "AsOfOption": "各项指标按哪一天计算,格式 YYYY-MM-DD(默认:最后一笔交易的日期)。",
    "RawCsvOption": "CSV 单元格原样写出,供程序读取。默认情况下,以 = + - @ 开头的单元格(电子表格公式)前面会加上 ',"
                    "让 Excel 把它当作文本显示。",
    "DomainOption": "只用这个业务领域(bank、dealer、education、retail、b2b)的方案,以及没有指定领域的方案。",
    "QuietOption": "不显示进度条。",
    "IdColumnOption": "客户编号所在的列。",
    "HeaderRowOption": "CSV 或 Excel 文件中列名所在的行号,用于列名上方还有标题行的文件(默认 1);拒收文件中的行号与"
                       "电子表格中看到的一致。",
    "MovedOption": "把每位变动的客户(编号、方案、原结果、新结果)写入这个文件(.csv、.xlsx、.parquet;给了 -o 时默认"
                   "写在它旁边,名为 NAME.moved.csv)。",
    "PageOption": "另外写一个独立的 HTML 页面。",
    "JsonOption": "输出 JSON,供程序读取:"
                  '{"schemes": {scheme: {"matrix": {old: {new: count}}, "moved": n}}}。',
    "FailOnChangeOption": "只要有客户变动,退出码就为 1(可作为 CI 中的审核关卡)。",
    "EncodingOption": "CSV 或 JSON Lines 文件的字符编码(默认:UTF-8,读不了再试 GB18030)。",
    "SheetOption": "Excel 文件中的工作表(默认:第一个)。",
    "SchemeOption": "只用这个方案(可重复指定多个)。",
    "CustomerIdOption": "客户在文件中的编号。",
    "CustomerJsonOption": "不读文件,直接用 JSON 给出一位客户。",
}

CUSTOMER_FILE = "客户文件(CSV、.xlsx/.xls、.parquet、.jsonl)。"

PARAMS: dict[str, str] = {
    "kece --debug": "kece 内部出错时显示调用栈(写在命令之前或之后都可以)。",
    "check --base": "另外按方案说明:与这里给出的规则(文件夹或 git 版本)相比,精确分析中有多少结果会改变。",
    "evaluate input": CUSTOMER_FILE,
    "evaluate --backend": "vectorized(批量计算)或 durable(durable_rules 引擎)。",
    "evaluate --output": "结果文件:按扩展名写成 .csv、.xlsx 或 .parquet。",
    "evaluate --rejects": "拒收文件(默认:OUTPUT.rejects.csv、.xlsx 或 .parquet,与结果文件的格式相同)。",
    "evaluate --duplicates": "同一客户编号出现在多行时:first(评估第一行,拒收后面的行)、last、reject(全部拒收)"
                             "或 keep(全部评估)。",
    "evaluate --max-rejected": "拒收行占比超过这个值时,退出码为 1(0 到 1 之间;1 表示从不)。",
    "explain input": "客户文件,从中按 --id 找到这位客户。",
    "explain --json": "输出 JSON,供程序读取。",
    "explain --actions": "不说明规则,改为逐步说明仲裁策略(policy.yaml)如何挑选行动方案中的行动。",
    "explain --as-of": "与 --actions 一起用:截止日期从哪一天起算(YYYY-MM-DD;默认今天)。",
    "plan input": CUSTOMER_FILE,
    "plan --all": "为文件中的每位客户各写一份行动方案,外加一份索引。",
    "plan --output": "行动方案文件;与 --all 一起用时是文件夹(默认 kece-out/plans)。不给时直接输出 Markdown 格式的"
                     "行动方案。",
    "plan --as-of": "截止日期从哪一天起算(YYYY-MM-DD;默认今天)。",
    "plan --format": "md、html 或 docx。",
    "plan --playbooks": "行动手册模板所在的文件夹(默认:当前目录下有 ./playbooks 就用它,否则用内置模板)。",
    "plan --horizon": "与 --all 一起用:tasks.csv 和 tasks.ics 收录这么多天内到期的行动。",
    "plan --no-tasks": "与 --all 一起用:不写 tasks.csv 和 tasks.ics。",
    "plan --rejects": "与 --all 一起用:拒收文件(.csv、.xlsx 或 .parquet;默认:OUTPUT/INPUT.rejects.csv)。",
    "report input": CUSTOMER_FILE,
    "report --output": "要写入的 HTML 文件。",
    "report --cross": "做交叉分析的两个方案:--cross a,b",
    "report --rejects": "同时把拒收行写入这个文件(.csv、.xlsx 或 .parquet);不论是否给出,报告都会统计拒收行。",
    "impact input": CUSTOMER_FILE,
    "impact --base": "变更前的规则:一个文件夹,或规则文件夹的一个 git 版本(HEAD、main~3、某个标签)。",
    "impact --as-of": "变动客户的行动方案从哪一天起算(YYYY-MM-DD;默认今天)。",
    "compare old": "kece evaluate 较早的一次输出(.csv、.xlsx、.parquet)。",
    "compare new": "kece evaluate 较晚的一次输出。",
    "compare --id-column": "客户编号所在的列(默认:常见的编号列,没有则用第一列)。",
    "derive input": "交易文件:客户编号、日期、金额,数量可有可无。",
    "derive --output": "客户特征文件(.csv、.xlsx、.parquet)。",
    "derive --rejects": "拒收文件(默认:OUTPUT.rejects.csv)。",
    "derive --encoding": "CSV 或文本文件的字符编码。",
    "calibrate input": "交易文件,或已含基础特征的客户文件。",
    "calibrate --output": "要写入的校准文件(YAML)。",
    "calibrate --encoding": "CSV 或文本文件的字符编码。",
    "init folder": "工作区所用的新文件夹(或空文件夹)。",
    "schema --output": "写入这个文件,而不是直接输出。",
    "schema --kind": "rules(规则文件)、policy(policy.yaml)或 actions(actions.yaml)。",
}

HELP_OPTION = "显示本帮助并退出。"

# The usage line: "用法:kece evaluate [选项] [input]".
USAGE = "用法:"
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."

# Typer's own words around the help and error panels (typer.rich_utils, by the names it gives them).
TYPER_WORDS: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "DEFAULT_STRING": "[默认:{}]",
    "ENVVAR_STRING": "[环境变量:{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "DEPRECATED_STRING": "(已停用)",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
}

# click's usage errors. Those with their parts kept apart (no such option, a missing parameter, a bad value):
MISSING_ARGUMENT = "缺少参数 {name}"
MISSING_OPTION = "缺少选项 {name}"
NO_SUCH_OPTION = "没有选项 {name}"
NO_SUCH_OPTION_NEAR = "没有选项 {name}(您是不是想用 {near}?)"
BAD_VALUE = "{name} 的取值无效:{reason}"
# The rest come as English sentences: (the sentence as a regular expression, its Chinese).
CLICK_MESSAGES: list[tuple[str, str]] = [
    (r"Option '(?P<option>.+)' requires an argument\.", "选项 '{option}' 后面缺少取值"),
    (r"Option '(?P<option>.+)' requires (?P<count>\d+) arguments\.", "选项 '{option}' 后面需要 {count} 个取值"),
    (r"Option '(?P<option>.+)' does not take a value\.", "选项 '{option}' 不接受取值"),
    (r"Got unexpected extra argument\(s\) \((?P<extra>.*)\)", "多出了参数:{extra}"),
    (r"No such command '(?P<name>.+)'\. Did you mean (?P<near>.+)\?", "没有命令 '{name}'(您是不是想用 {near}?)"),
    (r"No such command '(?P<name>.+)'\.", "没有命令 '{name}'"),
    (r"Missing command\.", "缺少命令"),
    # why a value is bad (Typer checks types with pydantic)
    (r"Input should be a valid integer\b.*", "应为整数"),
    (r"Input should be a valid number\b.*", "应为数字"),
    (r"Input should be a valid boolean\b.*", "应为 true 或 false"),
]
