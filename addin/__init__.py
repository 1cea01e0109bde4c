"""jixiao 加载项的 Python 部分：功能区按钮做的一切，命令行与批量处理也调用同样的函数。按工作分包，一本工作簿的流程是
io（读）→ scoring（输入模型与计分）→ checks（校验发现）→ report（报告）/ batch（批量汇总、差异分析）→ io（只拼接生成表写回）；
excel 是 Excel 一侧（功能区、加载项、安装、诊断），cli 是命令表，template 由指标体系的声明生成工作簿。model.py 是各包共用的
类型（Formula、Finding、WorkbookInputs、Evaluation），只依赖 udfs。依赖只朝一个方向：每个子包的说明写着它可以导入什么，
tests/test_architecture.py 按同一张表核对，并核对没有导入环、没有超过 500 行的模块。
"""
