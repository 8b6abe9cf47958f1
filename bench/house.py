"""Size of the house: lines of code, long functions and long modules, per layer.

Issue 19 asks for these before and after a restructuring. They count what a newcomer reads, so
blank lines, comments and docstrings are left out of a function's length.

    python -m bench.house            # table per layer
    python -m bench.house --list     # also every function over the bound, longest first
"""

from __future__ import annotations

import argparse
import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("kusei", "graph", "endpoint")


@dataclass(frozen=True)
class Function:
    path: Path
    name: str
    line: int
    length: int


def _code_lines(source: str) -> set[int]:
    """Lines holding a token other than a comment, a newline or a docstring."""
    lines: set[int] = set()
    docstrings = _docstring_lines(source)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                          tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        for line in range(token.start[0], token.end[0] + 1):
            if line not in docstrings:
                lines.add(line)
    return lines


def _docstring_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    return lines


def measure(path: Path) -> tuple[int, list[Function]]:
    source = path.read_text(encoding="utf-8")
    code = _code_lines(source)
    functions = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            functions.append(Function(path.relative_to(ROOT), node.name, node.lineno,
                                      sum(1 for line in span if line in code)))
    return len(code), functions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bound", type=int, default=50, help="a function longer than this is listed")
    parser.add_argument("--module-bound", type=int, default=400, help="a module longer than this is listed")
    parser.add_argument("--list", action="store_true", help="list the long functions and modules")
    args = parser.parse_args()
    long_functions: list[Function] = []
    long_modules: list[tuple[int, Path]] = []
    print(f"| layer | modules | code lines | functions | over {args.bound} lines |")
    print("|---|---|---|---|---|")
    for layer in LAYERS:
        files = sorted((ROOT / layer).rglob("*.py"))
        total, count, over = 0, 0, 0
        for path in files:
            lines, functions = measure(path)
            total += lines
            count += len(functions)
            long = [f for f in functions if f.length > args.bound]
            over += len(long)
            long_functions += long
            if lines > args.module_bound:
                long_modules.append((lines, path.relative_to(ROOT)))
        print(f"| {layer} | {len(files)} | {total} | {count} | {over} |")
    if args.list:
        print(f"\nFunctions over {args.bound} code lines:")
        for f in sorted(long_functions, key=lambda f: -f.length):
            print(f"  {f.length:4d}  {f.path}:{f.line} {f.name}")
        print(f"\nModules over {args.module_bound} code lines:")
        for lines, path in sorted(long_modules, reverse=True):
            print(f"  {lines:4d}  {path}")


if __name__ == "__main__":
    main()
