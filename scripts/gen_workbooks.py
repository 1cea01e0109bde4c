"""生成一批逼真的部门工作簿（批量处理的测试与基准用）。

以三个种子示例（保靖 2018 湖南部门整体、子洲 2021 重点评价、石屏 2022 项目支出）为底，用带种子的随机数确定性地改变
单位名称、年度与各项数字，三种指标体系混合；少数工作簿带有常见问题（调整得分没写理由、基础数据缺项导致无法计分），
让汇总里的“错误”“无法计分”“失分指标”都有内容。同样的 seed 与序号总是生成同样的数字。

用法：python scripts/gen_workbooks.py OUT_DIR [-n 200] [--seed 2024] [--corrupt] [--jobs 2]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import zipfile
from decimal import Decimal as D
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from addin.template.workbook import build_workbook  # noqa: E402
from workbook_templates.examples import _SP, BAOJING_2018, SHIPING_2022, ZIZHOU_2021  # noqa: E402
from workbook_templates.spec import Example  # noqa: E402

COUNTIES = ["保靖县", "子洲县", "石屏县", "澧县", "开福区", "花垣县", "永顺县", "绥德县", "米脂县", "建水县", "通海县", "安乡县"]
DEPTS = ["医疗保障局", "财政局", "教育局", "卫生健康局", "民政局", "人力资源和社会保障局", "自然资源局", "交通运输局",
         "农业农村局", "水利局", "文化旅游广电局", "市场监督管理局", "统计局", "审计局", "林业局", "住房和城乡建设局",
         "应急管理局", "司法局", "生态环境局", "乡村振兴局"]
DEDUCT_REASONS = ["报表封皮未盖章", "机关运行经费叙述上下年度对比不一致", "绩效目标编制部分不明确、未量化", "“其他”科目占比超过10%",
                  "超过规定时间报送", "项目自评绩效目标与预算绩效目标不完全一致", "制度未及时更新"]
GRADES4 = ["优秀", "良好", "一般", "较差"]


def _money(x: float) -> D:
    return D(str(round(x, 2)))


def _rate(x: float) -> D:
    return D(str(round(x, 4)))


def _unit(rng: random.Random) -> tuple[str, str]:
    county = rng.choice(COUNTIES)
    return county, county + rng.choice(DEPTS)


def _hunan(rng: random.Random, county: str, unit: str) -> Example:
    budget = rng.uniform(200, 5000)
    basic_share = rng.uniform(0.3, 0.7)
    added = budget * rng.choice([0, 0, rng.uniform(0, 0.1), rng.uniform(0.1, 0.35)])
    carry_begin = budget * rng.choice([0, 0, rng.uniform(0, 0.05)])
    carry_end = (budget + added + carry_begin) * rng.choice([0, 0, 0, rng.uniform(0, 0.12)])
    final = budget + added + carry_begin - carry_end
    basic_final = final * basic_share
    pub_budget = rng.uniform(10, 100)
    pub_final = pub_budget * rng.uniform(0.85, 1.25)
    sg_budget = rng.choice([0, rng.uniform(1, 20), rng.uniform(1, 20)])
    sg_prev = rng.choice([sg_budget, rng.uniform(1, 20)]) if sg_budget else rng.choice([0, rng.uniform(1, 10)])
    sg_final = sg_budget * rng.uniform(0.5, 1.1) if sg_budget else 0
    car, reception = sg_final * rng.uniform(0, 0.6), 0.0
    reception = sg_final - car
    proc_budget = rng.choice([0, rng.uniform(10, 200)])
    proc_final = proc_budget * rng.choice([1, 1, rng.uniform(0.8, 1)]) if proc_budget else 0
    quota = rng.randint(8, 80)
    staff = quota - rng.randint(0, 3) if rng.random() > 0.1 else quota + rng.randint(1, 3)
    half = lambda top: D(str(top - rng.choice([0, 0, 0, 0.5, 1])))  # noqa: E731
    overrides = {}
    if pub_final > pub_budget and rng.random() < 0.3:
        overrides["public_expense_control"] = (D(rng.choice([4, 6])), "年中人员增加，公用经费超出年初预算系客观原因，评价人酌情给分")
    scalars = {"unit_name": unit, "year": str(rng.choice([2019, 2020, 2021, 2022, 2023])), "money_unit": "万元",
               "staff_quota": quota, "staff_actual": staff, "sangong_budget_prev": _money(sg_prev),
               "carry_begin": _money(carry_begin), "budget_added": _money(added), "carry_end": _money(carry_end),
               "sat_service": _rate(rng.uniform(0.85, 0.99)), "sat_public": _rate(rng.uniform(0.85, 0.99)),
               "sat_staff": _rate(rng.uniform(0.85, 0.99)),
               # 没有楼堂馆所项目：写明“无”（空白是未填写，不计分）
               "building_area_approved": "无", "building_area_actual": "无", "building_invest_approved": "无",
               "building_invest_actual": "无"}
    return dataclasses.replace(
        BAOJING_2018, name=unit, scalars=scalars,
        table={"expense_total": {"budget_initial": _money(budget), "final": _money(final)},
               "basic": {"final": _money(basic_final)},
               "public_expense": {"budget_initial": _money(pub_budget), "final": _money(pub_final)},
               "sangong": {"budget_initial": _money(sg_budget), "final": _money(car) + _money(reception)},
               "sangong_car": {"budget_initial": _money(sg_budget * 0.5), "final": _money(car)},
               "sangong_abroad": {"budget_initial": 0, "final": 0},
               "sangong_reception": {"budget_initial": _money(sg_budget) - _money(sg_budget * 0.5), "final": _money(reception)},
               "project": {"final": _money(final) - _money(basic_final)},
               "procurement": {"budget_initial": _money(proc_budget), "final": _money(proc_final)}},
        values={"goal_reasonable": half(3), "goal_clear": half(3), "mgmt_system": half(8), "fund_compliance": half(6),
                "disclosure": half(5), "key_work": rng.choice(GRADES4[:3]), "benefit": half(6), "efficiency": half(6)},
        overrides=overrides, stated={},
        texts={k: v.replace("保靖县医疗生育保险管理服务局", unit) for k, v in BAOJING_2018.texts.items()},
        description=f"{unit}（生成）")


def _zizhou(rng: random.Random, county: str, unit: str) -> Example:
    fiscal_final = rng.uniform(300, 3000)
    income = fiscal_final * rng.uniform(1, 2)
    carry_prev = income * rng.uniform(0, 0.15)
    public_budget = rng.uniform(10, 60)
    public_final = public_budget * rng.uniform(0.8, 1.3)
    sg_budget = rng.choice([0, rng.uniform(1, 10)])
    quota = rng.randint(5, 60)
    debt_begin = rng.choice([0, 0, rng.uniform(1, 20)])
    book = rng.uniform(20, 500)
    values: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for code, _top in (("z1_1", 2), ("z1_2", 3), ("z1_3", 3), ("z1_4", 2), ("z1_5", 6), ("z2_6", 2), ("z2_7", 3),
                      ("z2_8", 3), ("z2_9", 2), ("z2_11", 3), ("z2_12", 2), ("z2_13", 2), ("z2_14", 2), ("z2_15", 3),
                      ("z2_16", 2)):
        d = rng.choice([0, 0, 0, 0, 0.5, 0.5, 1])
        values[code] = D(str(d))  # 没有扣分写明 0（空白是未填写，不计分）
        if d:
            notes[code] = rng.choice(DEDUCT_REASONS)
    values["z2_19"] = rng.choice([0, 0, 0, 1])
    values["z3_1"] = rng.choice(GRADES4[:3])
    self_score = rng.randint(90, 99)  # 部门自评普遍偏高（种子 001：自评 97，重点评价 85.1）
    scalars: dict[str, Any] = {"unit_name": unit, "year": str(rng.choice([2021, 2022, 2023])), "money_unit": "万元",
               "fiscal_budget": _money(fiscal_final * rng.choice([1, 1, rng.uniform(0.85, 1)])),
               "fiscal_final": _money(fiscal_final), "budget_expense_total": _money(income * rng.uniform(0.82, 1)),
               "budget_income_total": _money(income), "carry_cum_this": _money(carry_prev * rng.uniform(0.2, 1.3)),
               "carry_cum_prev": _money(carry_prev), "public_final": _money(public_final),
               "public_budget": _money(public_budget), "public_final_prev": _money(public_final * rng.uniform(0.8, 1.25)),
               "sangong_budget": _money(sg_budget), "sangong_budget_prev": _money(rng.choice([sg_budget, rng.uniform(0, 10)])),
               "sangong_actual": _money(sg_budget * rng.uniform(0.6, 1.05)),
               "procurement_actual": 0, "procurement_budget": 0, "staff_quota": quota,
               "staff_actual": quota + rng.choice([-2, -1, 0, 0, 1]),
               "receivable_begin": _money(rng.uniform(0.01, 50)), "receivable_end": None,
               "debt_begin": _money(debt_begin), "debt_end": _money(debt_begin * rng.choice([0, 1, 1.1])),
               "asset_book": _money(book), "asset_idle": _money(book * rng.choice([0, 0, rng.uniform(0, 0.03)])),
               "self_score": self_score, "self_grade": "优秀" if self_score >= 90 else "良好"}
    scalars["receivable_end"] = _money(float(scalars["receivable_begin"]) * rng.uniform(0.9, 1.15))
    proc = rng.choice([0, rng.uniform(10, 100)])
    if proc:
        scalars["procurement_budget"] = _money(proc)
        scalars["procurement_actual"] = _money(proc * rng.choice([1, rng.uniform(0.6, 1)]))
    return dataclasses.replace(ZIZHOU_2021, name=unit, scalars=scalars, values=values, notes=notes, stated={},
                               texts={**ZIZHOU_2021.texts, "self_eval_summary": f"部门自评得分{self_score}分。"},
                               description=f"{unit}（生成）")


def _project(rng: random.Random, county: str, unit: str) -> Example:
    from workbook_templates.examples import _shiping_rows

    full = rng.uniform(5e4, 2e6)
    executed = full * rng.choice([1, 1, rng.uniform(0.8, 1)])
    initial = full * rng.uniform(0.1, 1)
    values: dict[str, Any] = {}
    for n, (_l1, _l2, _name, _pts, nature, target, _unit, actual) in enumerate(_SP, 1):
        code = f"P{n:02d}"
        if nature == "定性":
            values[code] = rng.choice(["达成", "达成", "达成", "部分达成"])
        elif nature == "≥" and rng.random() < 0.15:
            values[code] = (D(str(target)) * D(str(round(rng.uniform(0.7, 0.99), 2)))).quantize(D("0.0001"))
        else:
            values[code] = actual
    return dataclasses.replace(
        SHIPING_2022, name=unit, indicators=_shiping_rows(),
        scalars={**SHIPING_2022.scalars, "unit_name": unit, "department": unit,
                 "year": str(rng.choice([2021, 2022, 2023]))},
        table={key: ({"budget_initial": _money(initial), "budget_full": _money(full), "executed": _money(executed)}
                     if key in ("fund_total", "fund_fiscal") else {"budget_initial": 0, "budget_full": 0, "executed": 0})
               for key in ("fund_total", "fund_fiscal", "fund_carry", "fund_other")},
        values=values, stated={}, notes={}, description=f"{unit}（生成）")


# 注入的常见问题：(基础数据中漏填的一项, 漏写理由的调整得分)，按体系
_PROBLEMS = {
    "hunan-dept": (("scalars", "staff_quota"), ("efficiency", D(5))),
    "zizhou-dept": (("scalars", "fiscal_final"), ("z3_1", D(6))),
    "project": (("values", "P01"), ("P02", D(4))),
}


def make_example(i: int, seed: int = 2024) -> tuple[str, Example]:
    """第 i 个生成的示例（同一 seed、同一 i 总是相同）：返回 (所在子文件夹, Example)。

    约每 15 个有 1 个漏填基础数据（某指标无法计分，总分不完整），约每 11 个有 1 个调整得分没写理由（“错误”）。
    """
    rng = random.Random(f"{seed}:{i}")
    county, unit = _unit(rng)
    kind = rng.random()
    if kind < 0.45:
        ex = _hunan(rng, county, unit)
    elif kind < 0.8:
        ex = _zizhou(rng, county, unit)
    else:
        ex = _project(rng, county, unit)
    (where, key), (code, score) = _PROBLEMS[ex.system]
    if i % 15 == 7:
        cleared: dict[str, Any] = {where: {**getattr(ex, where), key: None}}  # 字段名来自 _PROBLEMS
        ex = dataclasses.replace(ex, **cleared)
    if i % 11 == 4:
        ex = dataclasses.replace(ex, overrides={**ex.overrides, code: (score, "")})
    return county, ex


def _build_one(args: tuple[str, int, int]) -> Path:
    out_dir, i, seed = args
    county, ex = make_example(i, seed)
    folder = Path(out_dir) / county
    folder.mkdir(parents=True, exist_ok=True)
    return build_workbook(ex.system, folder / f"{i:03d}_{ex.name}.xlsx", ex)


def generate(out_dir: str | Path, n: int, seed: int = 2024, *, jobs: int = 1) -> list[Path]:
    """生成 n 个工作簿到 out_dir/县区/NNN_单位.xlsx，返回路径列表（按序号）。

    jobs>1 时多进程并行：每个工作簿只由 (seed, 序号) 决定，与生成顺序无关，所以并行生成的文件与逐个生成的完全相同。
    """
    todo = [(str(out_dir), i, seed) for i in range(n)]
    if jobs <= 1 or n < 2:
        return [_build_one(a) for a in todo]
    from concurrent.futures import ProcessPoolExecutor

    from addin.batch.run import _pool_context

    with ProcessPoolExecutor(max_workers=jobs, mp_context=_pool_context()) as ex:
        return list(ex.map(_build_one, todo, chunksize=max(1, n // (jobs * 4))))


def make_corrupt(out_dir: str | Path, good: str | Path) -> list[Path]:
    """三个坏文件：截断的压缩包、改了扩展名的文本文件、删掉了“评分表”的工作簿（由 good 复制修改）。"""
    import openpyxl

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(good).read_bytes()
    truncated = out / "截断的文件.xlsx"
    truncated.write_bytes(data[: len(data) // 2])
    text = out / "其实是文本.xlsx"
    text.write_text("单位,总分\n某某局,95\n", encoding="utf-8")
    wb = openpyxl.load_workbook(good)
    del wb["评分表"]
    missing = out / "缺少评分表.xlsx"
    wb.save(missing)
    assert zipfile.is_zipfile(missing)
    return [truncated, text, missing]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="生成一批部门工作簿（批量处理测试与基准用）")
    ap.add_argument("out_dir")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--corrupt", action="store_true", help="另外生成 3 个坏文件")
    ap.add_argument("--jobs", type=int, default=1, help="并行进程数（生成的文件与 --jobs 1 完全相同）")
    a = ap.parse_args(argv)
    paths = generate(a.out_dir, a.n, a.seed, jobs=a.jobs)
    if a.corrupt:
        paths += make_corrupt(a.out_dir, paths[0])
    print(f"已生成 {len(paths)} 个文件：{a.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
