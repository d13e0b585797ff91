"""`kece init`: a folder a business team can own — copies of the bundled packs and playbooks,
sample customers, and a short guide in Chinese and English."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.bundled import bundled_dir
from engine.errors import Say, UsageError

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"

GUIDE = """# 客策 kece 工作区 · kece workspace

## 中文

这个文件夹是你们团队自己的 kece 工作区。在这里运行的 kece 命令会使用本文件夹中的 `rules/`（规则）和
`playbooks/`（行动方案模板），而不是内置的那一份。

- `rules/`：每个 `.yaml` 文件是一个分群方案。用任何文本编辑器修改阈值、标签和策略；完整写法见 kece 的
  `docs/rules.md`。在 VS Code 中安装 Red Hat 的 YAML 扩展后，每个文件第一行的 `yaml-language-server`
  注释会提供校验和自动补全。
- `data/customers.csv`：示例客户。把你们自己的 CSV、Excel（.xlsx）、Parquet 或 JSON Lines 文件放在 `data/` 下即可。

常用命令（在本文件夹中运行）：

1. `kece check`：检查规则文件，列出所有问题（文件:行:列），并分析规则之间的重叠、缺口和无法命中的规则。
2. `kece test`：在两个引擎上运行每个方案的示例。
3. `kece evaluate data/customers.csv -o out/customers.csv`：计算每位客户的分群，写出结果文件和拒收文件。
4. `kece explain data/customers.csv --id C0001`：说明某位客户为什么得到这个分群，以及离更好的等级还差什么。

修改规则后，先运行 `kece check` 和 `kece test`，两者都通过后再计算客户。

## English

This folder is your team's own kece workspace. kece commands run here use this folder's `rules/` and
`playbooks/` instead of the bundled ones.

- `rules/`: each `.yaml` file is one segmentation scheme. Change thresholds, labels and strategies in any
  text editor; the full format is in kece's `docs/rules.md`. With Red Hat's YAML extension in VS Code, the
  `yaml-language-server` comment on each file's first line gives validation and autocompletion.
- `data/customers.csv`: sample customers. Put your own CSV, Excel (.xlsx), Parquet or JSON Lines files
  in `data/`.

Commands (run them in this folder):

1. `kece check`: checks the rule files, lists every problem (file:line:col), and analyses the rules for
   overlaps, gaps and rules that can never win.
2. `kece test`: runs every scheme's examples on both engines.
3. `kece evaluate data/customers.csv -o out/customers.csv`: segments every customer, writes the results
   and a rejects file.
4. `kece explain data/customers.csv --id C0001`: why a customer gets a segment, and what it lacks for a
   better one.

After changing a rule, run `kece check` and `kece test`; evaluate customers once both pass.
"""


def init_workspace(folder: Path) -> list[Path]:
    """Create the workspace; refuses a folder that already has files, so nothing is overwritten."""
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(Say(f"{folder} is not empty; kece init only fills a new or empty folder",
                             f"{folder} 不是空文件夹;kece init 只会写入新的或空的文件夹"))
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundled_dir("rules"), folder / "rules")
    shutil.copytree(bundled_dir("playbooks"), folder / "playbooks")
    (folder / "data").mkdir()
    sample = SAMPLES / "customers.csv"
    if not sample.is_file():  # an installed wheel carries the packs, the sample customers are in the repo
        sample = bundled_dir("samples") / "customers.csv"
    shutil.copyfile(sample, folder / "data" / "customers.csv")
    (folder / "README.md").write_text(GUIDE, encoding="utf-8")
    return sorted(p for p in folder.rglob("*") if p.is_file())
