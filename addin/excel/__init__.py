"""Excel 一侧：功能区按钮的 Python 端（ribbon.py，经 LiveBook 读写打开的工作簿）、加载项 jixiao.xlam 的构建（xlam.py；
功能区 XML 与回调 customui.py，VBA 模块表 vba_modules.py，[MS-OVBA] 读写 vbaproject.py，[MS-CFB] 写入 cfb.py；数据在 ribbon/ 与
vba/）、安装与状态（install.py，环境与配置 env.py）、诊断（doctor.py，Windows 读取 winsys.py）、隐藏的 Excel 会话
（excel_session.py）、导出定稿（export.py）。可导入 addin.model、addin.io、addin.scoring、addin.checks、addin.report 与
addin.submission（按钮“生成报送材料”）；命令行（addin.cli）调用这里，这里不导入命令行。
"""
