"""python -m addin.cli …：与 jixiao 命令相同。"""
import sys

from .main import main

sys.exit(main())
