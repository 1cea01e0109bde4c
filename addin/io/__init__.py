"""工作簿的读与写：按能力划分的 Book 协议（book.py）与三个适配器——openpyxl（openpyxl_book.py，文件）、批量读取器
（fastbook.py，只读、快）、xlwings（xlbook.py，Excel 中打开的工作簿）；打开前的文件检查（filecheck.py）、安全打开（safebook.py）、
文件身份与写入锁（locks.py）、原子写入与备份（safeio.py）；写回时只拼接生成表（splice.py，包视图 opc.py、样式合并 stylemerge.py、
逐字节核对 verify.py）；OOXML 的共同读法（ooxml.py：关系、工作表清单、安全的 XML 解析、A1 地址）。只可导入 addin.model
（与标准库、openpyxl、lxml、xlwings 等第三方库），不知道评分、校验与报告。
"""
