"""jixiao 命令行：命令表在 main.py（COMMANDS，一个命令一个模块：score、new、demo、check、report、package、batch、
compare、addin、export，各有 register 与 run），共用的退出码、CliError 与读取在 common.py；python -m addin.cli 与 jixiao 相同。
命令只解析参数、调用与功能区按钮相同的函数、打印结果；没有在导入时注册的东西。可导入 addin 的任何子包，没有谁导入它。
"""
