"""`python -m index build|list`: build the index from a folder of policies, list what it holds."""
from __future__ import annotations

import argparse
import sys

from .build import build_index
from .load import UnreadablePolicy
from .settings import get_settings
from .store import PolicyStore, StoreError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m index", description="Build and inspect the PlainPolicy index.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="index every policy in a folder (incremental; safe to interrupt)")
    b.add_argument("--policies", help="policy folder (default: PLAINPOLICY_POLICIES or ./policies)")
    b.add_argument("--store", help="index folder (default: PLAINPOLICY_STORE or ./store)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    ls = sub.add_parser("list", help="list the indexed policies")
    ls.add_argument("--store", help="index folder (default: PLAINPOLICY_STORE or ./store)")
    args = p.parse_args(argv)
    settings = get_settings().with_store(args.store)
    try:
        if args.command == "build":
            report = build_index(settings, args.policies, progress=not args.quiet)
            print(report.summary())
            for line in report.skipped:
                print(f"  skipped: {line}")
        else:
            manifest = PolicyStore(settings).require_manifest()
            print(f"build {manifest['build']} ({manifest['built_at']}), embedders: {'+'.join(manifest['embedders'])}")
            for cid, info in sorted(manifest["companies"].items()):
                print(f"{cid:16} {info['name']:28} {info.get('language', '?'):3} {info.get('chunks', 0):4} chunks  {info['source']}")
        return 0
    except (UnreadablePolicy, StoreError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("error: interrupted: the previous index is still the live one", file=sys.stderr)
    except Exception as exc:  # one line, never a traceback
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
